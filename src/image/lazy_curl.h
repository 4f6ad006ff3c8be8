/* lazy_curl.h - libcurl, loaded on first use.
 *
 * libcurl pulls some forty shared libraries into a process (TLS, Kerberos,
 * LDAP, IDN, HTTP/2...): linked normally it costs every berth command about
 * 6 ms at start (measured: an empty main() linked with -lcurl, hyperfine),
 * though only the registry commands use it. So berth does not link it:
 * lazy_curl.c defines the few curl_* functions the registry client calls, and
 * the first of them dlopen()s libcurl.so.4 and forwards.
 *
 *   lazy_curl_load()   load libcurl now; an error names what failed (so the
 *                      registry client can report it instead of a bare
 *                      CURLE_FAILED_INIT from the first call)
 */
#ifndef BERTH_IMAGE_LAZY_CURL_H
#define BERTH_IMAGE_LAZY_CURL_H

#include "common/error.h"

int lazy_curl_load(berth_err *err);

#endif
