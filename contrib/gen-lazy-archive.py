#!/usr/bin/env python3
"""gen-lazy-archive.py - write src/image/lazy_archive.c: the libarchive
functions Berth calls, forwarded to libarchive.so.13 loaded on first use.

Run it again whenever the code calls a libarchive function it did not call
before (the link fails with an undefined reference to it):

    contrib/gen-lazy-archive.py | clang-format --assume-filename=x.c > src/image/lazy_archive.c

It takes the prototypes from the installed headers and the list of functions
from the sources (src/, tests/), so the wrappers always match both.
"""
import glob
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
HEADERS = ["/usr/include/archive.h", "/usr/include/archive_entry.h"]

used = set()
for pattern in ("src/**/*.c", "tests/**/*.c"):
    for path in glob.glob(os.path.join(ROOT, pattern), recursive=True):
        if path.endswith("lazy_archive.c"):
            continue
        used |= set(re.findall(r"\b(archive_[a-z0-9_]+)\s*\(", open(path).read()))

decls = {}
for h in HEADERS:
    text = re.sub(r"/\*.*?\*/", " ", open(h).read(), flags=re.S)
    for m in re.finditer(r"__LA_DECL\s+([^;{}]*?)\b(archive_[a-z0-9_]+)\s*\(([^;{}]*?)\)\s*(?:__LA_[A-Z_]+(?:\([^)]*\))?\s*)*;", text, re.S):
        ret, name, params = (" ".join(m.group(1).split()), m.group(2), " ".join(m.group(3).split()))
        decls[name] = (ret, params)

def split_params(p):
    if p in ("", "void"):
        return []
    out, depth, cur = [], 0, ""
    for ch in p:
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
            continue
        depth += ch == "("
        depth -= ch == ")"
        cur += ch
    out.append(cur.strip())
    return out

TYPE_WORDS = {"int", "long", "char", "short", "unsigned", "signed", "void", "size_t", "time_t",
              "dev_t", "la_int64_t", "la_ssize_t", "__LA_MODE_T", "wchar_t", "mode_t"}


def param_type(p):
    """The type of a parameter, without the name some declarations give it."""
    m = re.match(r"^(.*?[\s\*])([A-Za-z_]\w*)$", p)
    if m and m.group(1).strip() and m.group(2) not in TYPE_WORDS:
        return m.group(1).rstrip()
    return p


names = sorted(n for n in used if n in decls and "..." not in decls[n][1])
variadic = sorted(n for n in used if n in decls and "..." in decls[n][1])
own = set()
for path in glob.glob(os.path.join(ROOT, "src/**/*.c"), recursive=True):
    own |= set(re.findall(r"^[a-z].*\b(archive_[a-z0-9_]+)\(", open(path).read(), re.M))
missing = sorted(n for n in used if n not in decls and n not in own)
if variadic:
    sys.stderr.write("gen-lazy-archive: variadic, wrapped by hand: %s\n" % " ".join(variadic))
if missing:
    sys.stderr.write("gen-lazy-archive: no prototype for: %s\n" % " ".join(missing))

print("""/* lazy_archive.c - the libarchive functions Berth calls, forwarded to
 * libarchive.so.13 loaded on first use (see lazy_archive.h).
 * Written by contrib/gen-lazy-archive.py from the installed headers; run it
 * again when the code starts calling another libarchive function. */
#include <archive.h>
#include <archive_entry.h>
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/lazy_archive.h"

static struct {""")
for n in names:
    ret, params = decls[n]
    print("\t%s (*%s)(%s);" % (ret, n, ", ".join(param_type(p) for p in split_params(params)) or "void"))
if "archive_set_error" in variadic:
    print("\tvoid (*archive_set_error)(struct archive *, int, const char *, ...);")
print("""} fn;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char *load_error;

static void load(void)
{
	void *h = dlopen("libarchive.so.13", RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		const char *e = dlerror();
		load_error = strdup(e ? e : "dlopen failed");
		return;
	}""")
for n in names:
    print('\tif (!(*(void **)&fn.%s = dlsym(h, "%s")) && !load_error)' % (n, n))
    print('\t\tload_error = strdup("libarchive.so.13 has no %s");' % n)
if "archive_set_error" in variadic:
    print('\tif (!(*(void **)&fn.archive_set_error = dlsym(h, "archive_set_error")) && !load_error)')
    print('\t\tload_error = strdup("libarchive.so.13 has no archive_set_error");')
print("""}

int lazy_archive_load(berth_err *err)
{
	pthread_once(&once, load);
	if (!load_error)
		return 0;
	return berth_error_code(err, ELIBACC, "cannot load libarchive: %s (apt-get install libarchive13)",
				load_error);
}

/* Callers load the library first (lazy_archive_load) and report its error;
 * reaching a wrapper without it is a bug in Berth, not bad input. */
static void need(void)
{
	pthread_once(&once, load);
	if (load_error) {
		fprintf(stderr, "berth: cannot load libarchive: %s\\n", load_error);
		abort();
	}
}""")
for n in names:
    ret, params = decls[n]
    ps = [param_type(p) for p in split_params(params)]
    args = ", ".join("a%d" % i for i in range(len(ps)))
    plist = ", ".join("%s a%d" % (p, i) for i, p in enumerate(ps)) or "void"
    print()
    print("%s %s(%s)" % (ret, n, plist))
    print("{")
    print("\tneed();")
    if ret == "void":
        print("\tfn.%s(%s);" % (n, args))
    else:
        print("\treturn fn.%s(%s);" % (n, args))
    print("}")

if "archive_set_error" in variadic:
    print("""
/* Variadic: formatted here, passed on as one string. */
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
	need();
	va_list ap;
	va_start(ap, fmt);
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	fn.archive_set_error(a, err, "%s", msg ? msg : fmt);
	free(msg);
}""")
