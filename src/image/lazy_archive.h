/* lazy_archive.h - libarchive, loaded on first use.
 *
 * libarchive brings libxml2 (and with it ICU and the C++ runtime), nettle,
 * lzma, lz4, bzip2 and acl into a process: linked normally it costs every
 * berth command about 2 ms at start (an empty main() linked with -larchive,
 * hyperfine), though only pulls, loads, saves and imports use it. So berth
 * does not link it: lazy_archive.c (written by contrib/gen-lazy-archive.py)
 * defines the archive_* functions the code calls and forwards them to
 * libarchive.so.13, dlopen()ed once.
 *
 *   lazy_archive_load()  load it now; entry points call this first so a
 *                        missing library is an error naming it, not a crash
 */
#ifndef BERTH_IMAGE_LAZY_ARCHIVE_H
#define BERTH_IMAGE_LAZY_ARCHIVE_H

#include "common/error.h"

int lazy_archive_load(berth_err *err);

#endif
