/* import.c - a rootfs tarball as a one-layer image, with `docker import -c`
 * changes applied to its config (see archive.h).
 *
 * The changes are Dockerfile instructions, read as Docker's builder reads
 * them for `docker import` and `docker commit`: words split on blanks with
 * quotes kept together, then quotes removed and $VAR / ${VAR} / ${VAR:-x} /
 * ${VAR:+x} taken from the ENV set so far (for ENV, LABEL, EXPOSE, USER,
 * WORKDIR, VOLUME and STOPSIGNAL; CMD and ENTRYPOINT keep theirs for the
 * shell). Only the instructions that change the config are accepted.
 */
#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/archive.h"
#include "image/digest.h"
#include "image/lazy_archive.h"
#include "image/manifest.h"
#include "image/store.h"

/* ---- words ------------------------------------------------------------------ */

/* Split on blanks outside quotes; quotes and backslashes stay in the words
 * (Docker's parseWords), for expand() to interpret. */
static char **split_words(const char *s)
{
	char **v = xcalloc(1, sizeof(char *));
	size_t n = 0;
	struct strbuf w = STRBUF_INIT;
	bool in = false;
	char q = 0;
	for (const char *p = s;; p++) {
		if (!*p || (!q && isspace((unsigned char)*p))) {
			if (in) {
				v = xrealloc(v, (n + 2) * sizeof(char *));
				v[n++] = strbuf_detach(&w, NULL);
				v[n] = NULL;
			}
			in = false;
			if (!*p)
				break;
			continue;
		}
		in = true;
		if (*p == '\\' && p[1] && q != '\'') {
			strbuf_addch(&w, *p++);
		} else if (q && *p == q) {
			q = 0;
		} else if (!q && (*p == '"' || *p == '\'')) {
			q = *p;
		}
		strbuf_addch(&w, *p);
	}
	strbuf_release(&w);
	return v;
}

static const char *env_lookup(json_t *env, const char *name, size_t len)
{
	size_t i;
	json_t *e;
	json_array_foreach (env, i, e) {
		const char *s = json_string_value(e);
		if (s && strncmp(s, name, len) == 0 && s[len] == '=')
			return s + len + 1;
	}
	return NULL;
}

static int expand_into(struct strbuf *out, const char *s, json_t *env, const char *what,
		       berth_err *err);

/* One $ reference at *pp (just after the '$'). */
static int expand_var(struct strbuf *out, const char **pp, json_t *env, const char *what,
		      berth_err *err)
{
	const char *p = *pp;
	if (*p == '{') {
		const char *name = ++p;
		while (isalnum((unsigned char)*p) || *p == '_')
			p++;
		size_t len = (size_t)(p - name);
		const char *val = len ? env_lookup(env, name, len) : NULL;
		if (*p == '}') {
			strbuf_addstr(out, val ? val : "");
			*pp = p + 1;
			return 0;
		}
		if (len && *p == ':' && (p[1] == '-' || p[1] == '+')) {
			char op = p[1];
			const char *word = p + 2;
			int depth = 1;
			for (p = word; *p && depth; p++)
				depth += *p == '{' ? 1 : *p == '}' ? -1 : 0;
			if (depth)
				return berth_error_code(err, EINVAL, "%s: missing '}' in \"%s\"",
							what, *pp - 1);
			_cleanup_free_ char *w = xstrndup(word, (size_t)(p - 1 - word));
			bool set = val && *val;
			if (op == '-' && !set)
				return expand_into(out, w, env, what, err) < 0 ? -EINVAL
									       : (*pp = p, 0);
			if (op == '+' && set)
				return expand_into(out, w, env, what, err) < 0 ? -EINVAL
									       : (*pp = p, 0);
			if (set)
				strbuf_addstr(out, val);
			*pp = p;
			return 0;
		}
		return berth_error_code(err, EINVAL, "%s: bad substitution in \"%s\"", what,
					*pp - 1);
	}
	const char *name = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (p == name) {
		strbuf_addch(out, '$');
		return 0;
	}
	const char *val = env_lookup(env, name, (size_t)(p - name));
	strbuf_addstr(out, val ? val : "");
	*pp = p;
	return 0;
}

/* Quotes removed, escapes and variables resolved (Docker's ProcessWord). */
static int expand_into(struct strbuf *out, const char *s, json_t *env, const char *what,
		       berth_err *err)
{
	const char *p = s;
	while (*p) {
		if (*p == '\'') {
			const char *e = strchr(p + 1, '\'');
			if (!e)
				return berth_error_code(err, EINVAL, "%s: unmatched ' in \"%s\"",
							what, s);
			strbuf_add(out, p + 1, (size_t)(e - p - 1));
			p = e + 1;
		} else if (*p == '"') {
			for (p++; *p && *p != '"'; p++) {
				if (*p == '\\' && (p[1] == '"' || p[1] == '\\' || p[1] == '$')) {
					strbuf_addch(out, *++p);
				} else if (*p == '$') {
					p++;
					if (expand_var(out, &p, env, what, err) < 0)
						return -EINVAL;
					p--;
				} else {
					strbuf_addch(out, *p);
				}
			}
			if (*p != '"')
				return berth_error_code(err, EINVAL, "%s: unmatched \" in \"%s\"",
							what, s);
			p++;
		} else if (*p == '\\' && p[1]) {
			strbuf_addch(out, p[1]);
			p += 2;
		} else if (*p == '$') {
			p++;
			if (expand_var(out, &p, env, what, err) < 0)
				return -EINVAL;
		} else {
			strbuf_addch(out, *p++);
		}
	}
	return 0;
}

static int expand(const char *s, json_t *env, const char *what, char **out, berth_err *err)
{
	struct strbuf sb = STRBUF_INIT;
	if (expand_into(&sb, s, env, what, err) < 0) {
		strbuf_release(&sb);
		return -EINVAL;
	}
	*out = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- the instructions ---------------------------------------------------------- */

struct changer {
	json_t *cfg; /* the container config being built */
	bool cmd_set;
};

static json_t *obj_member(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_object(v)) {
		v = json_object();
		json_object_set_new(o, k, v);
	}
	return v;
}

static json_t *env_of(json_t *cfg)
{
	json_t *env = json_object_get(cfg, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(cfg, "Env", env);
	}
	return env;
}

/* CMD and ENTRYPOINT: a JSON array of strings, else the shell form. */
static json_t *cmd_line(const char *v)
{
	json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
	if (json_is_array(j)) {
		size_t i;
		json_t *e;
		bool strings = true;
		json_array_foreach (j, i, e)
			strings = strings && json_is_string(e);
		if (strings)
			return j;
	}
	json_decref(j);
	return json_pack("[s, s, s]", "/bin/sh", "-c", v);
}

/* ENV and LABEL: name=value words, or the legacy "name value". Every value
 * sees the variables as they were before the instruction. */
static int name_values(struct changer *ch, const char *kw, const char *v, bool env, berth_err *err)
{
	_cleanup_strv_ char **words = split_words(v);
	if (!words[0])
		return berth_error_code(err, EINVAL, "%s requires at least one argument", kw);
	_cleanup_json_ json_t *before = json_deep_copy(env_of(ch->cfg));
	json_t *labels = env ? NULL : obj_member(ch->cfg, "Labels");
	bool legacy = !strchr(words[0], '=');
	size_t n = 0;
	while (words[n])
		n++;
	for (size_t i = 0; i < (legacy ? 1 : n); i++) {
		_cleanup_free_ char *key = NULL, *val = NULL;
		if (legacy) {
			if (n < 2)
				return berth_error_code(err, EINVAL, "%s must have two arguments",
							kw);
			const char *rest = v + strspn(v, " \t");
			rest += strcspn(rest, " \t");
			rest += strspn(rest, " \t");
			if (expand(words[0], before, kw, &key, err) < 0 ||
			    expand(rest, before, kw, &val, err) < 0)
				return -EINVAL;
		} else {
			char *eq = strchr(words[i], '=');
			if (!eq)
				return berth_error_code(err, EINVAL,
							"%s: can't find = in \"%s\"; it must be of "
							"the form name=value",
							kw, words[i]);
			*eq = '\0';
			if (expand(words[i], before, kw, &key, err) < 0 ||
			    expand(eq + 1, before, kw, &val, err) < 0)
				return -EINVAL;
		}
		if (!*key)
			return berth_error_code(err, EINVAL, "%s names are not allowed to be empty",
						kw);
		if (!env) {
			json_object_set_new(labels, key, json_string(val));
			continue;
		}
		json_t *e = env_of(ch->cfg);
		size_t k;
		json_t *old;
		size_t kl = strlen(key);
		json_t *pair = json_sprintf("%s=%s", key, val);
		bool replaced = false;
		json_array_foreach (e, k, old) {
			const char *o = json_string_value(old);
			if (o && strncmp(o, key, kl) == 0 && o[kl] == '=') {
				json_array_set(e, k, pair);
				replaced = true;
				break;
			}
		}
		if (!replaced)
			json_array_append(e, pair);
		json_decref(pair);
	}
	return 0;
}

static int parse_port(const char *s, const char *end, unsigned long *out)
{
	if (s == end)
		return -1;
	unsigned long v = 0;
	for (const char *p = s; p < end; p++) {
		if (!isdigit((unsigned char)*p))
			return -1;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -1;
	}
	*out = v;
	return 0;
}

/* "80", "53/udp", "8000-8010/tcp": every port of a range, as Docker keys them. */
static int expose(struct changer *ch, const char *v, berth_err *err)
{
	_cleanup_strv_ char **words = split_words(v);
	if (!words[0])
		return berth_error_code(err, EINVAL, "EXPOSE requires at least one argument");
	json_t *ports = obj_member(ch->cfg, "ExposedPorts");
	json_t *env = env_of(ch->cfg);
	for (size_t i = 0; words[i]; i++) {
		_cleanup_free_ char *spec = NULL;
		if (expand(words[i], env, "EXPOSE", &spec, err) < 0)
			return -EINVAL;
		char *slash = strchr(spec, '/');
		const char *proto = slash ? slash + 1 : "tcp";
		const char *end = slash ? slash : spec + strlen(spec);
		const char *dash = memchr(spec, '-', (size_t)(end - spec));
		unsigned long lo, hi;
		if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
		    strcmp(proto, "sctp") != 0)
			return berth_error_code(
				err, EINVAL, "EXPOSE: invalid proto \"%s\" in \"%s\"", proto, spec);
		if (parse_port(spec, dash ? dash : end, &lo) < 0 ||
		    parse_port(dash ? dash + 1 : spec, end, &hi) < 0 || hi < lo)
			return berth_error_code(err, EINVAL, "EXPOSE: invalid containerPort: %s",
						spec);
		for (unsigned long p = lo; p <= hi; p++) {
			_cleanup_free_ char *key = xasprintf("%lu/%s", p, proto);
			json_object_set_new(ports, key, json_object());
		}
	}
	return 0;
}

static bool signal_ok(const char *s)
{
	static const char *const names[] = {
		"HUP",   "INT",  "QUIT", "ILL",  "TRAP", "ABRT", "BUS",    "FPE",    "KILL",
		"USR1",  "SEGV", "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD",   "CONT",
		"STOP",  "TSTP", "TTIN", "TTOU", "URG",  "XCPU", "XFSZ",   "VTALRM", "PROF",
		"WINCH", "IO",   "PWR",  "SYS",  "IOT",  "POLL",
	};
	if (isdigit((unsigned char)*s)) {
		char *end;
		long n = strtol(s, &end, 10);
		return !*end && n >= 1 && n <= 64;
	}
	const char *n = strncasecmp(s, "SIG", 3) == 0 ? s + 3 : s;
	if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0)
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(n, names[i]) == 0)
			return true;
	return false;
}

static int one_word(struct changer *ch, const char *kw, const char *v, char **out, berth_err *err)
{
	_cleanup_strv_ char **words = split_words(v);
	if (!words[0] || words[1])
		return berth_error_code(err, EINVAL, "%s requires exactly one argument", kw);
	return expand(words[0], env_of(ch->cfg), kw, out, err);
}

static int volume(struct changer *ch, const char *v, berth_err *err)
{
	json_t *vols = obj_member(ch->cfg, "Volumes");
	_cleanup_json_ json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
	if (json_is_array(j)) {
		size_t i;
		json_t *e;
		json_array_foreach (j, i, e) {
			if (!json_is_string(e) || !*json_string_value(e))
				return berth_error_code(err, EINVAL,
							"VOLUME specified can not be an empty "
							"string");
			json_object_set_new(vols, json_string_value(e), json_object());
		}
		if (!json_array_size(j))
			return berth_error_code(err, EINVAL,
						"VOLUME requires at least one argument");
		return 0;
	}
	_cleanup_strv_ char **words = split_words(v);
	if (!words[0])
		return berth_error_code(err, EINVAL, "VOLUME requires at least one argument");
	for (size_t i = 0; words[i]; i++) {
		_cleanup_free_ char *p = NULL;
		if (expand(words[i], env_of(ch->cfg), "VOLUME", &p, err) < 0)
			return -EINVAL;
		if (!*p)
			return berth_error_code(err, EINVAL,
						"VOLUME specified can not be an empty string");
		json_object_set_new(vols, p, json_object());
	}
	return 0;
}

static int apply_change(struct changer *ch, const char *line, berth_err *err)
{
	const char *p = line + strspn(line, " \t");
	size_t kl = strcspn(p, " \t");
	_cleanup_free_ char *kw = xstrndup(p, kl);
	for (char *c = kw; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	const char *v = p + kl;
	v += strspn(v, " \t");
	/* Trailing blanks are no part of a value. */
	_cleanup_free_ char *val = xstrdup(v);
	for (size_t n = strlen(val); n && isspace((unsigned char)val[n - 1]); n--)
		val[n - 1] = '\0';
	json_t *cfg = ch->cfg;
	int r;
	if (strcmp(kw, "CMD") == 0 || strcmp(kw, "ENTRYPOINT") == 0) {
		if (!*val)
			return berth_error_code(err, EINVAL, "%s requires at least one argument",
						kw);
		bool cmd = kw[0] == 'C';
		json_object_set_new(cfg, cmd ? "Cmd" : "Entrypoint", cmd_line(val));
		/* Docker: an ENTRYPOINT drops a CMD not set in the same changes. */
		if (cmd)
			ch->cmd_set = true;
		else if (!ch->cmd_set)
			json_object_del(cfg, "Cmd");
		return 0;
	}
	if (strcmp(kw, "ENV") == 0 || strcmp(kw, "LABEL") == 0)
		return name_values(ch, kw, val, kw[0] == 'E', err);
	if (strcmp(kw, "EXPOSE") == 0)
		return expose(ch, val, err);
	if (strcmp(kw, "VOLUME") == 0)
		return volume(ch, val, err);
	if (strcmp(kw, "USER") == 0 || strcmp(kw, "STOPSIGNAL") == 0) {
		_cleanup_free_ char *w = NULL;
		if ((r = one_word(ch, kw, val, &w, err)) < 0)
			return r;
		if (kw[0] == 'S' && !signal_ok(w))
			return berth_error_code(err, EINVAL, "STOPSIGNAL: invalid signal \"%s\"",
						w);
		json_object_set_new(cfg, kw[0] == 'U' ? "User" : "StopSignal", json_string(w));
		return 0;
	}
	if (strcmp(kw, "WORKDIR") == 0) {
		if (!*val)
			return berth_error_code(err, EINVAL,
						"WORKDIR requires exactly one argument");
		_cleanup_free_ char *w = NULL;
		if (expand(val, env_of(cfg), kw, &w, err) < 0)
			return -EINVAL;
		/* Relative to the previous WORKDIR, as Docker resolves it. */
		const char *cur = json_string_value(json_object_get(cfg, "WorkingDir"));
		_cleanup_free_ char *joined =
			w[0] == '/' ? xstrdup(w) : xasprintf("/%s/%s", cur ? cur : "", w);
		_cleanup_free_ char *clean = path_clean(joined);
		json_object_set_new(cfg, "WorkingDir", json_string(clean));
		return 0;
	}
	if (strcmp(kw, "ONBUILD") == 0) {
		size_t tl = strcspn(val, " \t");
		_cleanup_free_ char *trig = xstrndup(val, tl);
		for (char *c = trig; *c; c++)
			*c = (char)toupper((unsigned char)*c);
		if (!*trig)
			return berth_error_code(err, EINVAL,
						"ONBUILD requires at least one argument");
		if (strcmp(trig, "ONBUILD") == 0)
			return berth_error_code(err, EINVAL,
						"Chaining ONBUILD via `ONBUILD ONBUILD` isn't "
						"allowed");
		if (strcmp(trig, "FROM") == 0 || strcmp(trig, "MAINTAINER") == 0)
			return berth_error_code(err, EINVAL,
						"%s isn't allowed as an ONBUILD trigger", trig);
		json_t *ob = json_object_get(cfg, "OnBuild");
		if (!json_is_array(ob)) {
			ob = json_array();
			json_object_set_new(cfg, "OnBuild", ob);
		}
		json_array_append_new(ob, json_string(val));
		return 0;
	}
	return berth_error_code(err, EINVAL, "%s is not a valid change command", kw);
}

/* The container config in the order Docker writes it: container.Config's
 * fields in struct order, its maps' keys sorted. */
json_t *image_config_docker_order(json_t *cc)
{
	static const char *const fields[] = {
		"User",       "ExposedPorts", "Env",     "Cmd",    "Volumes",
		"WorkingDir", "Entrypoint",   "OnBuild", "Labels", "StopSignal",
	};
	json_t *out = json_object();
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		json_t *v = json_object_get(cc, fields[i]);
		if (v)
			json_object_set_new(out, fields[i],
					    json_is_object(v) ? json_object_sorted(v) : json_incref(v));
	}
	return out;
}

/* Each change may hold several lines, as a Dockerfile fragment. */
int image_config_apply_changes(json_t *cfg, const char *const *changes, berth_err *err)
{
	struct changer ch = { .cfg = cfg };
	for (size_t i = 0; changes && changes[i]; i++) {
		_cleanup_free_ char *all = xstrdup(changes[i]);
		char *save = NULL;
		for (char *line = strtok_r(all, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *p = line + strspn(line, " \t\r");
			if (!*p || *p == '#')
				continue;
			if (apply_change(&ch, p, err) < 0)
				return berth_error_wrap(err, "change \"%s\"", changes[i]);
		}
	}
	/* An ENV that only made room for lookups leaves no empty array behind. */
	json_t *env = json_object_get(cfg, "Env");
	if (json_is_array(env) && !json_array_size(env))
		json_object_del(cfg, "Env");
	return 0;
}

/* ---- the layer ------------------------------------------------------------------ */

/* A tar header block: its checksum (unsigned, as POSIX and GNU tar write it) matches. */
static bool tar_header_ok(const unsigned char *b)
{
	unsigned long sum = 0, want = 0;
	for (size_t i = 0; i < 512; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	size_t i = 148;
	while (i < 156 && b[i] == ' ')
		i++;
	if (i == 156 || b[i] < '0' || b[i] > '7')
		return false;
	for (; i < 156 && b[i] >= '0' && b[i] <= '7'; i++)
		want = want * 8 + (unsigned long)(b[i] - '0');
	return sum == want;
}

/* The tarball, decompressed, staged as a blob: its digest is the DiffID. The
 * blob is committed only when the stream was a tar. */
static int stage_tar(struct image_store *s, int fd, char digest[IMAGE_DIGEST_BUF], int64_t *size,
		     berth_err *err)
{
	struct archive *in = archive_read_new();
	archive_read_support_filter_all(in);
	archive_read_support_format_raw(in);
	struct archive_entry *e;
	int r = 0;
	if (archive_read_open_fd(in, fd, 1 << 16) != ARCHIVE_OK ||
	    archive_read_next_header(in, &e) != ARCHIVE_OK) {
		r = berth_error_code(err, EINVAL, "the tarball: %s", archive_error_string(in));
		archive_read_free(in);
		return r;
	}
	struct blob_writer *w;
	if ((r = blob_writer_new(s, &w, err)) < 0) {
		archive_read_free(in);
		return r;
	}
	const size_t bufsize = 1 << 20;
	_cleanup_free_ unsigned char *buf = xmalloc(bufsize);
	unsigned char head[512];
	size_t n_head = 0;
	int64_t total = 0;
	for (;;) {
		la_ssize_t n = archive_read_data(in, buf, bufsize);
		if (n < 0) {
			r = berth_error_code(err, EIO, "the tarball: %s", archive_error_string(in));
			break;
		}
		if (n == 0)
			break;
		size_t take = sizeof(head) - n_head < (size_t)n ? sizeof(head) - n_head : (size_t)n;
		memcpy(head + n_head, buf, take);
		n_head += take;
		if ((r = blob_writer_write(w, buf, (size_t)n, err)) < 0)
			break;
		total += n;
	}
	archive_read_free(in);
	if (r == 0 && total == 0)
		r = berth_error_code(err, EINVAL, "the tarball is empty");
	if (r == 0 && (n_head < sizeof(head) || !tar_header_ok(head))) {
		bool zero = n_head == sizeof(head);
		for (size_t i = 0; zero && i < sizeof(head); i++)
			zero = head[i] == 0;
		if (!zero)
			r = berth_error_code(
				err, EINVAL,
				"the input is not a tar archive (plain, gzip or zstd)");
	}
	if (r < 0) {
		blob_writer_free(w);
		return r;
	}
	*size = total;
	return blob_writer_commit(w, NULL, total, digest, err);
}

/* Go's RFC 3339 with nanoseconds, trailing zeros dropped (time.RFC3339Nano). */
static char *now_rfc3339(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct tm tm;
	gmtime_r(&ts.tv_sec, &tm);
	_cleanup_free_ char *frac = xasprintf(".%09ld", ts.tv_nsec);
	size_t n = strlen(frac);
	while (n > 1 && frac[n - 1] == '0')
		frac[--n] = '\0';
	return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%sZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, n > 1 ? frac : "");
}

int image_import(struct image_store *s, int fd, const char *const *changes, const char *message,
		 const char *tag, char **image_id, berth_err *err)
{
	if (lazy_archive_load(err) < 0)
		return -ELIBACC;
	/* The changes first: a bad one costs no read of the tarball. */
	_cleanup_json_ json_t *cc = json_object();
	int r = image_config_apply_changes(cc, changes, err);
	if (r < 0)
		return r;
	char layer[IMAGE_DIGEST_BUF];
	int64_t lsize = 0;
	if ((r = stage_tar(s, fd, layer, &lsize, err)) < 0)
		return berth_error_wrap(err, "import");
	char *added[4] = { layer, NULL, NULL, NULL };

	_cleanup_free_ char *created = now_rfc3339();
	__attribute__((cleanup(platform_free))) struct image_platform host = { 0 };
	platform_default(&host);
	_cleanup_json_ json_t *cfg =
		json_pack("{s:s, s:s}", "architecture", host.architecture, "os", host.os);
	if (host.variant)
		json_object_set_new(cfg, "variant", json_string(host.variant));
	json_object_set_new(cfg, "created", json_string(created));
	if (message && *message)
		json_object_set_new(cfg, "comment", json_string(message));
	json_object_set_new(cfg, "config", image_config_docker_order(cc));
	json_object_set_new(cfg, "rootfs",
			    json_pack("{s:s, s:[s]}", "type", "layers", "diff_ids", layer));
	json_t *hist = json_pack("{s:s}", "created", created);
	if (message && *message)
		json_object_set_new(hist, "comment", json_string(message));
	json_object_set_new(cfg, "history", json_pack("[o]", hist));
	/* Docker's image config has its top-level keys sorted (image.Image's
	 * MarshalJSON goes through a map). */
	_cleanup_json_ json_t *sorted = json_object_sorted(cfg);
	_cleanup_free_ char *cbody = json_dumps(sorted, JSON_COMPACT);
	char cdigest[IMAGE_DIGEST_BUF], mdigest[IMAGE_DIGEST_BUF];
	digest_buffer(cbody, strlen(cbody), cdigest);
	_cleanup_json_ json_t *man =
		json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:[{s:s, s:s, s:I}]}", "schemaVersion", 2,
			  "mediaType", MT_OCI_MANIFEST, "config", "mediaType", MT_OCI_CONFIG,
			  "digest", cdigest, "size", (json_int_t)strlen(cbody), "layers",
			  "mediaType", MT_OCI_LAYER, "digest", layer, "size", (json_int_t)lsize);
	_cleanup_free_ char *mbody = json_dumps(man, JSON_COMPACT);
	digest_buffer(mbody, strlen(mbody), mdigest);
	added[1] = cdigest;
	added[2] = mdigest;
	if ((r = image_store_put_blob(s, cbody, strlen(cbody), cdigest, NULL, err)) == 0 &&
	    (r = image_store_put_blob(s, mbody, strlen(mbody), mdigest, NULL, err)) == 0) {
		const char *tags[] = { tag, NULL };
		struct image_add a = { .manifest_digest = mdigest, .tags = tag ? tags : NULL };
		r = image_store_add_image(s, &a, image_id, err);
	}
	if (r < 0) {
		/* Nothing of a failed import stays: the blobs go unless an image uses them. */
		image_store_discard_blobs(s, added);
		return berth_error_wrap(err, "import");
	}
	return 0;
}
