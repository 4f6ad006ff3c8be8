/* ctr_opts_values.c - the values of run/create flags with a syntax of their
 * own, checked the way docker's CLI checks them, with its messages. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/ctr_opts_values.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"

int ctr_parse_size(const char *s, int64_t *out, berth_err *err)
{
	const char *p = s;
	if (!isdigit((unsigned char)*p))
		return berth_error(err, 0, "invalid size: '%s'", s);
	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return berth_error(err, 0, "invalid size: '%s'", s);
		while (isdigit((unsigned char)*p))
			p++;
	}
	size_t numlen = (size_t)(p - s);
	if (*p == ' ')
		p++;
	long double mult = 1;
	const char *units = "kmgtp";
	const char *u = *p ? strchr(units, tolower((unsigned char)*p)) : NULL;
	if (u) {
		for (const char *q = units; q <= u; q++)
			mult *= 1024;
		p++;
	}
	if (*p == 'i' || *p == 'I')
		p++;
	if (*p == 'b' || *p == 'B')
		p++;
	if (*p)
		return berth_error(err, 0, "invalid size: '%s'", s);
	_cleanup_free_ char *num = xstrndup(s, numlen);
	long double v = strtold(num, NULL) * mult;
	if (v >= (long double)INT64_MAX)
		return berth_error(err, 0, "invalid size: '%s'", s);
	*out = (int64_t)v;
	return 0;
}

static const struct {
	const char *name;
	int64_t ns;
} duration_units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 }, /* U+00B5 micro sign */
	{ "\xce\xbcs", 1000 }, /* U+03BC Greek mu */
	{ "ms", 1000000 },
	{ "s", 1000000000LL },
	{ "m", 60 * 1000000000LL },
	{ "h", 3600 * 1000000000LL },
};

int ctr_parse_duration(const char *s, int64_t *ns, berth_err *err)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (strcmp(p, "0") == 0) {
		*ns = 0;
		return 0;
	}
	if (!*p)
		return berth_error(err, 0, "time: invalid duration \"%s\"", s);
	unsigned __int128 total = 0;
	while (*p) {
		uint64_t whole = 0, frac = 0, scale = 1;
		bool digits = false;
		while (isdigit((unsigned char)*p)) {
			if (whole > (UINT64_MAX - 9) / 10)
				return berth_error(err, 0, "time: invalid duration \"%s\"", s);
			whole = whole * 10 + (uint64_t)(*p++ - '0');
			digits = true;
		}
		if (*p == '.') {
			p++;
			while (isdigit((unsigned char)*p)) {
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (uint64_t)(*p - '0');
					scale *= 10;
				}
				p++;
				digits = true;
			}
		}
		if (!digits)
			return berth_error(err, 0, "time: invalid duration \"%s\"", s);
		const char *u = p;
		while (*p && *p != '.' && !isdigit((unsigned char)*p))
			p++;
		if (u == p)
			return berth_error(err, 0, "time: missing unit in duration \"%s\"", s);
		int64_t unit = 0;
		for (size_t i = 0; i < ARRAY_SIZE(duration_units); i++)
			if (strlen(duration_units[i].name) == (size_t)(p - u) &&
			    memcmp(duration_units[i].name, u, (size_t)(p - u)) == 0)
				unit = duration_units[i].ns;
		if (!unit)
			return berth_error(err, 0, "time: unknown unit \"%.*s\" in duration \"%s\"",
					   (int)(p - u), u, s);
		total += (unsigned __int128)whole * (uint64_t)unit +
			 (unsigned __int128)frac * (uint64_t)unit / scale;
		if (total > (unsigned __int128)INT64_MAX)
			return berth_error(err, 0, "time: invalid duration \"%s\"", s);
	}
	*ns = neg ? -(int64_t)total : (int64_t)total;
	return 0;
}

int ctr_parse_int(const char *s, int bits, bool is_unsigned, int64_t *out, berth_err *err)
{
	const char *fn = is_unsigned ? "ParseUint" : "ParseInt";
	if (!*s || isspace((unsigned char)*s) || (is_unsigned && (*s == '-' || *s == '+')))
		return berth_error(err, 0, "strconv.%s: parsing \"%s\": invalid syntax", fn, s);
	char *end = NULL;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (*end)
		return berth_error(err, 0, "strconv.%s: parsing \"%s\": invalid syntax", fn, s);
	int64_t max = bits >= 64 ? INT64_MAX
				 : (is_unsigned ? (1LL << bits) - 1 : (1LL << (bits - 1)) - 1);
	int64_t min = is_unsigned ? 0 : (bits >= 64 ? INT64_MIN : -(1LL << (bits - 1)));
	if (errno == ERANGE || v > max || v < min)
		return berth_error(err, 0, "strconv.%s: parsing \"%s\": value out of range", fn, s);
	*out = v;
	return 0;
}

int ctr_parse_nano_cpus(const char *s, int64_t *out, berth_err *err)
{
	const char *p = s;
	bool neg = false;
	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	unsigned __int128 v = 0;
	bool digits = false;
	while (isdigit((unsigned char)*p)) {
		v = v * 10 + (unsigned)(*p++ - '0');
		digits = true;
		if (v > (unsigned __int128)INT64_MAX)
			return berth_error(err, 0, "value is too large");
	}
	v *= 1000000000;
	if (*p == '.') {
		p++;
		unsigned __int128 place = 100000000;
		while (isdigit((unsigned char)*p)) {
			unsigned d = (unsigned)(*p++ - '0');
			if (place == 0 && d != 0)
				return berth_error(err, 0, "value is too precise");
			v += d * place;
			place /= 10;
			digits = true;
		}
	}
	if (!digits || *p)
		return berth_error(err, 0, "failed to parse %s as a rational number", s);
	if (v > (unsigned __int128)INT64_MAX)
		return berth_error(err, 0, "value is too large");
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int ctr_parse_bool(const char *s, bool *out, berth_err *err)
{
	static const char *const yes[] = { "1", "t", "T", "TRUE", "true", "True" };
	static const char *const no[] = { "0", "f", "F", "FALSE", "false", "False" };
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return berth_error(err, 0, "strconv.ParseBool: parsing \"%s\": invalid syntax", s);
}

int ctr_parse_ulimit(const char *s, json_t **out, berth_err *err)
{
	static const char *const names[] = {
		"core",   "cpu",   "data", "fsize",  "locks",  "memlock",    "msgqueue", "nice",
		"nofile", "nproc", "rss",  "rtprio", "rttime", "sigpending", "stack",
	};
	const char *eq = strchr(s, '=');
	if (!eq)
		return berth_error(err, 0, "invalid ulimit argument: %s", s);
	_cleanup_free_ char *name = xstrndup(s, (size_t)(eq - s));
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		known |= strcmp(name, names[i]) == 0;
	if (!known)
		return berth_error(err, 0, "invalid ulimit type: %s", name);
	_cleanup_free_ char *soft_s = xstrdup(eq + 1);
	char *hard_s = strchr(soft_s, ':');
	if (hard_s)
		*hard_s++ = '\0';
	if (hard_s && strchr(hard_s, ':'))
		return berth_error(err, 0,
				   "too many limit value arguments - %s, can only have up to two, "
				   "`soft[:hard]`",
				   eq + 1);
	int64_t soft, hard;
	if (ctr_parse_int(soft_s, 64, false, &soft, err) < 0)
		return berth_error_wrap(err, "invalid ulimit soft value %s", soft_s);
	hard = soft;
	if (hard_s && ctr_parse_int(hard_s, 64, false, &hard, err) < 0)
		return berth_error_wrap(err, "invalid ulimit hard value %s", hard_s);
	if (soft > hard)
		return berth_error(
			err, 0,
			"ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
			(long long)soft, (long long)hard);
	*out = json_pack("{s:s, s:I, s:I}", "Name", name, "Hard", (json_int_t)hard, "Soft",
			 (json_int_t)soft);
	return 0;
}

static bool device_mode_valid(const char *m)
{
	if (!*m || strlen(m) > 3)
		return false;
	for (const char *p = m; *p; p++)
		if (!strchr("rwm", *p) || strchr(p + 1, *p))
			return false;
	return true;
}

int ctr_parse_device(const char *s, json_t **out, berth_err *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	char *parts[4] = { NULL };
	size_t n = 0;
	for (char *tok = copy, *next; tok; tok = next) {
		next = strchr(tok, ':');
		if (next)
			*next++ = '\0';
		if (n == ARRAY_SIZE(parts))
			return berth_error(err, 0, "invalid device specification: %s", s);
		parts[n++] = tok;
	}
	if (n > 3)
		return berth_error(err, 0, "invalid device specification: %s", s);
	const char *src = parts[0], *dst = NULL, *mode = "rwm";
	if (n == 3) {
		dst = parts[1];
		mode = parts[2];
	} else if (n == 2) {
		if (device_mode_valid(parts[1]))
			mode = parts[1];
		else
			dst = parts[1];
	}
	if (!dst || !*dst)
		dst = src;
	if (src[0] != '/')
		return berth_error(err, 0, "bad format for path: %s", src);
	if (dst[0] != '/')
		return berth_error(err, 0, "bad format for path: %s", dst);
	if (!device_mode_valid(mode))
		return berth_error(err, 0, "bad mode specified: %s", mode);
	*out = json_pack("{s:s, s:s, s:s}", "PathOnHost", src, "PathInContainer", dst,
			 "CgroupPermissions", mode);
	return 0;
}

/* A --mount bool: a bare key is true, a value is strconv.ParseBool's. */
static int parse_flag_bool(const char *key, const char *val, bool *out, berth_err *err)
{
	*out = true;
	if (val && ctr_parse_bool(val, out, err) < 0)
		return berth_error(err, 0, "invalid value for %s: %s", key, val);
	return 0;
}

/* The object under key in o, created on first use. */
static json_t *sub(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		v = json_object();
		json_object_set_new(o, key, v);
	}
	return v;
}

static void kv_into(json_t *o, const char *kv)
{
	const char *eq = strchr(kv, '=');
	_cleanup_free_ char *k = eq ? xstrndup(kv, (size_t)(eq - kv)) : xstrdup(kv);
	json_object_set_new(o, k, json_string(eq ? eq + 1 : ""));
}

int ctr_parse_mount(const char *s, json_t **out, berth_err *err)
{
	_cleanup_json_ json_t *m = json_object();
	_cleanup_free_ char *copy = xstrdup(s);
	const char *type = "volume";
	json_t *bind = NULL, *vol = NULL, *tmpfs = NULL;
	/* docker fills these in whatever order the fields come, then checks the type */
	_cleanup_json_ json_t *bo = json_object(), *vo = json_object(), *to = json_object();
	for (char *field = copy, *next; field; field = next) {
		next = strchr(field, ',');
		if (next)
			*next++ = '\0';
		_cleanup_free_ char *whole = xstrdup(field); /* for messages */
		char *val = strchr(field, '=');
		if (val)
			*val++ = '\0';
		for (char *p = field; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		const char *key = field;
		if (!val && strcmp(key, "readonly") != 0 && strcmp(key, "ro") != 0 &&
		    strcmp(key, "volume-nocopy") != 0 && strcmp(key, "bind-nonrecursive") != 0)
			return berth_error(err, 0, "invalid field '%s' must be a key=value pair",
					   key);
		bool b;
		if (strcmp(key, "type") == 0) {
			if (strcmp(val, "bind") && strcmp(val, "volume") && strcmp(val, "tmpfs"))
				return berth_error(err, 0, "invalid mount type: %s", val);
			type = strcmp(val, "bind") == 0     ? "bind"
			       : strcmp(val, "volume") == 0 ? "volume"
							    : "tmpfs";
		} else if (strcmp(key, "source") == 0 || strcmp(key, "src") == 0) {
			json_object_set_new(m, "Source", json_string(val));
		} else if (strcmp(key, "target") == 0 || strcmp(key, "dst") == 0 ||
			   strcmp(key, "destination") == 0) {
			json_object_set_new(m, "Target", json_string(val));
		} else if (strcmp(key, "readonly") == 0 || strcmp(key, "ro") == 0) {
			if (parse_flag_bool(key, val, &b, err) < 0)
				return -EINVAL;
			json_object_set_new(m, "ReadOnly", json_boolean(b));
		} else if (strcmp(key, "consistency") == 0) {
			json_object_set_new(m, "Consistency", json_string(val));
		} else if (strcmp(key, "bind-propagation") == 0) {
			bind = bo;
			json_object_set_new(bo, "Propagation", json_string(val));
		} else if (strcmp(key, "bind-nonrecursive") == 0) {
			if (parse_flag_bool(key, val, &b, err) < 0)
				return -EINVAL;
			bind = bo;
			json_object_set_new(bo, "NonRecursive", json_boolean(b));
		} else if (strcmp(key, "volume-nocopy") == 0) {
			if (parse_flag_bool(key, val, &b, err) < 0)
				return -EINVAL;
			vol = vo;
			json_object_set_new(vo, "NoCopy", json_boolean(b));
		} else if (strcmp(key, "volume-label") == 0) {
			vol = vo;
			kv_into(sub(vo, "Labels"), val);
		} else if (strcmp(key, "volume-driver") == 0) {
			vol = vo;
			json_object_set_new(sub(vo, "DriverConfig"), "Name", json_string(val));
		} else if (strcmp(key, "volume-opt") == 0) {
			vol = vo;
			kv_into(sub(sub(vo, "DriverConfig"), "Options"), val);
		} else if (strcmp(key, "tmpfs-size") == 0) {
			int64_t size;
			if (ctr_parse_size(val, &size, err) < 0)
				return berth_error(err, 0, "invalid value for %s: %s", key, val);
			tmpfs = to;
			json_object_set_new(to, "SizeBytes", json_integer(size));
		} else if (strcmp(key, "tmpfs-mode") == 0) {
			char *end = NULL;
			errno = 0;
			unsigned long mode = strtoul(val, &end, 8);
			if (!*val || *end || errno || mode > UINT32_MAX || *val == '-')
				return berth_error(err, 0, "invalid value for %s: %s", key, val);
			tmpfs = to;
			json_object_set_new(to, "Mode", json_integer((json_int_t)mode));
		} else {
			return berth_error(err, 0, "unexpected key '%s' in '%s'", key, whole);
		}
	}
	json_object_set_new(m, "Type", json_string(type));
	if (!json_object_get(m, "Target"))
		return berth_error(err, 0, "target is required");
	if (bind && strcmp(type, "bind") != 0)
		return berth_error(err, 0, "cannot mix 'bind-*' options with mount type '%s'",
				   type);
	if (vol && strcmp(type, "volume") != 0)
		return berth_error(err, 0, "cannot mix 'volume-*' options with mount type '%s'",
				   type);
	if (tmpfs && strcmp(type, "tmpfs") != 0)
		return berth_error(err, 0, "cannot mix 'tmpfs-*' options with mount type '%s'",
				   type);
	if (bind)
		json_object_set(m, "BindOptions", bind);
	if (vol)
		json_object_set(m, "VolumeOptions", vol);
	if (tmpfs)
		json_object_set(m, "TmpfsOptions", tmpfs);
	*out = TAKE_PTR(m);
	return 0;
}

/* "80" or "8000-8010", each port 0..65535. */
static int port_range(const char *s, unsigned *start, unsigned *end)
{
	char *e = NULL;
	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	unsigned long a = strtoul(s, &e, 10), b = a;
	if (*e == '-') {
		const char *t = e + 1;
		if (!isdigit((unsigned char)*t))
			return -EINVAL;
		b = strtoul(t, &e, 10);
	}
	if (*e || errno || a > 65535 || b > 65535 || b < a)
		return -EINVAL;
	*start = (unsigned)a;
	*end = (unsigned)b;
	return 0;
}

/* Split "80/udp" into the port part and its protocol (tcp by default). */
static int split_proto(const char *s, char **port, const char **proto, berth_err *err)
{
	const char *slash = strchr(s, '/');
	*proto = "tcp";
	if (slash) {
		const char *p = slash + 1;
		if (strcmp(p, "tcp") == 0 || strcmp(p, "udp") == 0 || strcmp(p, "sctp") == 0)
			*proto = p;
		else
			return berth_error(err, 0, "invalid proto: %s", p);
	}
	*port = slash ? xstrndup(s, (size_t)(slash - s)) : xstrdup(s);
	return 0;
}

/* "target=80,published=8080,protocol=udp" -> "8080:80/udp" (other keys ignored, as docker) */
static int publish_long_syntax(const char *s, char **out, berth_err *err)
{
	_cleanup_free_ char *copy = xstrdup(s);
	const char *target = "", *published = "", *proto = "tcp";
	for (char *field = copy, *next; field; field = next) {
		next = strchr(field, ',');
		if (next)
			*next++ = '\0';
		char *val = strchr(field, '=');
		if (!val || val == field)
			return berth_error(
				err, 0,
				"invalid publish opts format (should be name=value but got '%s')",
				field);
		*val++ = '\0';
		if (strcmp(field, "target") == 0)
			target = val;
		else if (strcmp(field, "published") == 0)
			published = val;
		else if (strcmp(field, "protocol") == 0)
			proto = val;
	}
	*out = xasprintf("%s:%s/%s", published, target, proto);
	return 0;
}

int ctr_parse_publish(const char *s, json_t *bindings, json_t *exposed, berth_err *err)
{
	if (strchr(s, '=')) {
		_cleanup_free_ char *spec = NULL;
		if (publish_long_syntax(s, &spec, err) < 0)
			return -EINVAL;
		return ctr_parse_publish(spec, bindings, exposed, err);
	}
	/* [IP:][HOSTPORT:]CONTAINERPORT[/PROTO]; the IP may itself hold colons */
	const char *last = strrchr(s, ':');
	_cleanup_free_ char *ip = NULL, *host = NULL;
	const char *ctr = s;
	if (last) {
		ctr = last + 1;
		const char *prev = last;
		while (prev > s && prev[-1] != ':')
			prev--;
		if (prev == s) {
			host = xstrndup(s, (size_t)(last - s));
		} else {
			host = xstrndup(prev, (size_t)(last - prev));
			ip = xstrndup(s, (size_t)(prev - 1 - s));
		}
	}
	if (ip && ip[0] == '[') {
		size_t n = strlen(ip);
		if (n < 2 || ip[n - 1] != ']')
			return berth_error(err, 0, "invalid IP address: %s", ip);
		memmove(ip, ip + 1, n - 2);
		ip[n - 2] = '\0';
	}
	unsigned char buf[16];
	if (ip && *ip && inet_pton(AF_INET, ip, buf) != 1 && inet_pton(AF_INET6, ip, buf) != 1)
		return berth_error(err, 0, "invalid IP address: %s", ip);
	if (!*ctr)
		return berth_error(err, 0, "no port specified: %s<empty>", s);
	_cleanup_free_ char *port = NULL;
	const char *proto;
	if (split_proto(ctr, &port, &proto, err) < 0)
		return -EINVAL;
	unsigned cs, ce, hs = 0, he = 0;
	if (port_range(port, &cs, &ce) < 0)
		return berth_error(err, 0, "invalid containerPort: %s", port);
	bool has_host = host && *host;
	if (has_host && port_range(host, &hs, &he) < 0)
		return berth_error(err, 0, "invalid hostPort: %s", host);
	if (has_host && ce - cs != he - hs && ce != cs)
		return berth_error(
			err, 0, "invalid ranges specified for container and host Ports: %s and %s",
			port, host);
	for (unsigned i = 0; i <= ce - cs; i++) {
		_cleanup_free_ char *key = xasprintf("%u/%s", cs + i, proto);
		_cleanup_free_ char *hp = NULL;
		if (!has_host)
			hp = xstrdup("");
		else if (cs == ce && hs != he)
			hp = xasprintf("%u-%u", hs, he);
		else
			hp = xasprintf("%u", hs + i);
		json_object_set_new(exposed, key, json_object());
		json_t *list = json_object_get(bindings, key);
		if (!list) {
			list = json_array();
			json_object_set_new(bindings, key, list);
		}
		json_array_append_new(
			list, json_pack("{s:s, s:s}", "HostIp", ip ? ip : "", "HostPort", hp));
	}
	return 0;
}

int ctr_parse_expose(const char *s, json_t *exposed, berth_err *err)
{
	_cleanup_free_ char *port = NULL;
	const char *proto;
	if (split_proto(s, &port, &proto, err) < 0)
		return -EINVAL;
	unsigned start, end;
	if (port_range(port, &start, &end) < 0)
		return berth_error(err, 0, "invalid range format for --expose: %s", s);
	for (unsigned p = start; p <= end; p++) {
		_cleanup_free_ char *key = xasprintf("%u/%s", p, proto);
		json_object_set_new(exposed, key, json_object());
	}
	return 0;
}

int ctr_parse_restart(const char *s, json_t **out, berth_err *err)
{
	const char *colon = strchr(s, ':');
	if (colon == s)
		return berth_error(
			err, 0, "invalid restart policy format: no policy provided before colon");
	_cleanup_free_ char *name = colon ? xstrndup(s, (size_t)(colon - s)) : xstrdup(s);
	int64_t count = 0;
	if (colon && colon[1]) {
		berth_err ignored = BERTH_ERR_INIT;
		int r = ctr_parse_int(colon + 1, 32, false, &count, &ignored);
		berth_err_clear(&ignored);
		if (r < 0 || strchr(colon + 1, 'x') || strchr(colon + 1, 'X'))
			return berth_error(err, 0,
					   "invalid restart policy format: maximum retry count "
					   "must be an integer");
	}
	if (strcmp(name, "") == 0 || strcmp(name, "no") == 0 || strcmp(name, "always") == 0 ||
	    strcmp(name, "unless-stopped") == 0) {
		if (count != 0)
			return berth_error(err, 0,
					   "invalid restart policy: maximum retry count can only "
					   "be used with 'on-failure'");
	} else if (strcmp(name, "on-failure") == 0) {
		if (count < 0)
			return berth_error(
				err, 0,
				"invalid restart policy: maximum retry count cannot be negative");
	} else {
		return berth_error(err, 0,
				   "invalid restart policy: unknown policy '%s'; use one of 'no', "
				   "'always', 'on-failure', or 'unless-stopped'",
				   name);
	}
	*out = json_pack("{s:s, s:I}", "Name", *name ? name : "no", "MaximumRetryCount",
			 (json_int_t)count);
	return 0;
}

int ctr_read_kv_file(const char *path, bool from_env, json_t *arr, berth_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return berth_error_errno(err, "open %s", path);
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned lineno = 0;
	errno = 0;
	while ((len = getline(&line, &cap, f)) >= 0) {
		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		char *p = line;
		if (lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		json_t *s = json_string(p);
		if (!s)
			return berth_error(err, 0, "%s contains invalid utf8 bytes at line %u",
					   path, lineno);
		json_decref(s);
		char *eq = strchr(p, '=');
		size_t namelen = eq ? (size_t)(eq - p) : strlen(p);
		if (namelen == 0)
			return berth_error(err, 0, "%s line %u: no variable name on line '%s'",
					   path, lineno, p);
		if (strcspn(p, " \t\n\v\f\r") < namelen)
			return berth_error(err, 0,
					   "%s line %u: variable '%.*s' contains whitespaces", path,
					   lineno, (int)namelen, p);
		if (eq || !from_env) {
			json_array_append_new(arr, json_string(p));
		} else {
			const char *v = getenv(p);
			if (v) {
				_cleanup_free_ char *kv = xasprintf("%s=%s", p, v);
				json_t *js = json_string(kv);
				if (js)
					json_array_append_new(arr, js);
			}
		}
	}
	if (ferror(f))
		return berth_error_errno(err, "read %s", path);
	return 0;
}

bool ctr_is_ip(const char *s, int family)
{
	unsigned char buf[16];
	if (family)
		return inet_pton(family, s, buf) == 1;
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

bool ctr_mac_valid(const char *s)
{
	/* six colon- or dash-separated hex pairs */
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			return false;
		s += 2;
		if (i < 5 && *s != ':' && *s != '-')
			return false;
		if (i < 5)
			s++;
	}
	return *s == '\0';
}

int ctr_parse_extra_host(const char *s, char **entry, berth_err *err)
{
	size_t n = strcspn(s, ":=");
	if (!s[n] || n == 0)
		return berth_error(err, 0, "bad format for add-host: \"%s\"", s);
	_cleanup_free_ char *ip = xstrdup(s + n + 1);
	size_t len = strlen(ip);
	if (len >= 2 && ip[0] == '[' && ip[len - 1] == ']') {
		memmove(ip, ip + 1, len - 2);
		ip[len - 2] = '\0';
	}
	if (strcmp(ip, "host-gateway") != 0 && !ctr_is_ip(ip, 0))
		return berth_error(err, 0, "invalid IP address in add-host: \"%s\"", ip);
	*entry = xasprintf("%.*s:%s", (int)n, s, ip);
	return 0;
}

int ctr_parse_network(const char *s, char **name, json_t **endpoint, berth_err *err)
{
	if (!strchr(s, '=')) {
		*name = xstrdup(s);
		*endpoint = json_object();
		return 0;
	}
	_cleanup_json_ json_t *ep = json_object();
	_cleanup_free_ char *copy = xstrdup(s), *net = NULL;
	for (char *field = copy, *next; field; field = next) {
		next = strchr(field, ',');
		if (next)
			*next++ = '\0';
		char *val = strchr(field, '=');
		if (!val)
			return berth_error(err, 0, "invalid field key %s", field);
		*val++ = '\0';
		if (strcmp(field, "name") == 0) {
			free(net);
			net = xstrdup(val);
		} else if (strcmp(field, "alias") == 0) {
			json_t *a = json_object_get(ep, "Aliases");
			if (!a) {
				a = json_array();
				json_object_set_new(ep, "Aliases", a);
			}
			json_array_append_new(a, json_string(val));
		} else if (strcmp(field, "ip") == 0 || strcmp(field, "ip6") == 0) {
			bool v6 = field[2] == '6';
			if (!ctr_is_ip(val, v6 ? AF_INET6 : AF_INET))
				return berth_error(err, 0, "invalid IPv%c address: %s",
						   v6 ? '6' : '4', val);
			json_object_set_new(sub(ep, "IPAMConfig"),
					    v6 ? "IPv6Address" : "IPv4Address", json_string(val));
		} else if (strcmp(field, "link-local-ip") == 0) {
			json_t *ipam = sub(ep, "IPAMConfig");
			json_t *l = json_object_get(ipam, "LinkLocalIPs");
			if (!l) {
				l = json_array();
				json_object_set_new(ipam, "LinkLocalIPs", l);
			}
			json_array_append_new(l, json_string(val));
		} else if (strcmp(field, "mac-address") == 0) {
			if (!ctr_mac_valid(val))
				return berth_error(err, 0, "%s is not a valid mac address", val);
			json_object_set_new(ep, "MacAddress", json_string(val));
		} else if (strcmp(field, "driver-opt") == 0) {
			kv_into(sub(ep, "DriverOpts"), val);
		} else if (strcmp(field, "gw-priority") == 0) {
			int64_t prio;
			if (ctr_parse_int(val, 64, false, &prio, err) < 0)
				return -EINVAL;
			json_object_set_new(ep, "GwPriority", json_integer(prio));
		} else {
			return berth_error(err, 0, "invalid field key %s", field);
		}
	}
	if (!net || !*net)
		return berth_error(err, 0, "network name/id is not specified");
	*name = TAKE_PTR(net);
	*endpoint = TAKE_PTR(ep);
	return 0;
}

int ctr_read_seccomp_profile(const char *path, char **compact, berth_err *err)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	if (!f)
		return berth_error(err, 0, "opening seccomp profile (%s) failed: %s", path,
				   strerror(errno));
	json_error_t je;
	_cleanup_json_ json_t *profile = json_loadf(f, 0, &je);
	if (!profile)
		return berth_error(err, 0, "compacting json for seccomp profile (%s) failed: %s",
				   path, je.text);
	*compact = json_dumps(profile, JSON_COMPACT);
	return 0;
}

int ctr_check_device_cgroup_rule(const char *s, berth_err *err)
{
	/* "a|b|c MAJOR|*:MINOR|* rwm" */
	const char *p = s;
	bool ok = *p && strchr("abc", *p) && p[1] == ' ';
	if (ok) {
		p += 2;
		for (int part = 0; part < 2 && ok; part++) {
			if (*p == '*')
				p++;
			else if (isdigit((unsigned char)*p))
				while (isdigit((unsigned char)*p))
					p++;
			else
				ok = false;
			if (ok && part == 0)
				ok = *p++ == ':';
		}
		ok = ok && *p++ == ' ';
		size_t n = ok ? strspn(p, "rwm") : 0;
		ok = ok && n >= 1 && n <= 3 && !p[n];
	}
	if (!ok)
		return berth_error(err, 0, "invalid device cgroup format '%s'", s);
	return 0;
}

int ctr_check_sysctl(const char *s, berth_err *err)
{
	/* the namespaced sysctls docker lets a container set */
	static const char *const names[] = {
		"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
		"kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
	};
	const char *eq = strchr(s, '=');
	if (eq) {
		size_t n = (size_t)(eq - s);
		for (size_t i = 0; i < ARRAY_SIZE(names); i++)
			if (strlen(names[i]) == n && strncmp(s, names[i], n) == 0)
				return 0;
		if (strncmp(s, "fs.mqueue.", 10) == 0 || strncmp(s, "net.", 4) == 0)
			return 0;
	}
	return berth_error(err, 0, "sysctl '%s' is not allowed", s);
}

int ctr_parse_throttle(const char *s, enum ctr_throttle kind, json_t **out, berth_err *err)
{
	const char *colon = strrchr(s, ':');
	if (!colon)
		return berth_error(err, 0, "bad format: %s", s);
	_cleanup_free_ char *path = xstrndup(s, (size_t)(colon - s));
	const char *v = colon + 1;
	if (strncmp(path, "/dev/", 5) != 0)
		return berth_error(err, 0, "bad format for device path: %s", s);
	int64_t n = 0;
	berth_err ignored = BERTH_ERR_INIT;
	int r = kind == CTR_THROTTLE_RATE ? ctr_parse_size(v, &n, &ignored)
					  : ctr_parse_int(v, kind == CTR_THROTTLE_WEIGHT ? 16 : 64,
							  true, &n, &ignored);
	berth_err_clear(&ignored);
	if (kind == CTR_THROTTLE_WEIGHT) {
		if (r < 0 || n < 10 || n > 1000)
			return berth_error(err, 0,
					   "invalid weight for device: %s. The correct format is "
					   "<device-path>:<number>, number between 10 and 1000",
					   s);
		*out = json_pack("{s:s, s:I}", "Path", path, "Weight", (json_int_t)n);
		return 0;
	}
	if (r < 0)
		return berth_error(err, 0,
				   "invalid rate for device: %s. The correct format is "
				   "<device-path>:<number>%s",
				   s,
				   kind == CTR_THROTTLE_RATE
					   ? "[<unit>]. Number must be a positive integer. Unit is "
					     "optional and can be kb, mb, or gb"
					   : ". Number must be a positive integer");
	*out = json_pack("{s:s, s:I}", "Path", path, "Rate", (json_int_t)n);
	return 0;
}

int ctr_bind_spec(const char *s, char **bind, berth_err *err)
{
	/* docker makes a source of "." or "./x" absolute (not "x" or "../x") */
	size_t srclen = strcspn(s, ":");
	if ((srclen == 1 && s[0] == '.') || strncmp(s, "./", 2) == 0) {
		_cleanup_free_ char *cwd = getcwd(NULL, 0);
		if (!cwd)
			return berth_error_errno(err, "getcwd");
		_cleanup_free_ char *src = xstrndup(s, srclen);
		_cleanup_free_ char *joined = path_join(cwd, src);
		_cleanup_free_ char *abs = path_clean(joined);
		*bind = xasprintf("%s%s", abs, s + srclen);
		return 0;
	}
	*bind = xstrdup(s);
	return 0;
}

int ctr_check_ns_mode(const char *flag, const char *val, berth_err *err)
{
	static const struct {
		const char *flag, *what;
		bool container; /* "container:NAME" allowed */
		const char *modes[6];
	} ns[] = {
		{ "pid", "PID", true, { "", "host" } },
		{ "ipc", "IPC", true, { "", "none", "private", "shareable", "host" } },
		{ "uts", "UTS", false, { "", "host" } },
		{ "cgroupns", "CGROUP", false, { "", "host", "private" } },
		{ "userns", "USER", false, { "", "host" } },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		if (strcmp(ns[i].flag, flag) != 0)
			continue;
		for (const char *const *m = ns[i].modes; *m; m++)
			if (strcmp(val, *m) == 0)
				return 0;
		if (ns[i].container && strncmp(val, "container:", 10) == 0 && val[10])
			return 0;
		return berth_error(err, 0, "--%s: invalid %s mode", flag, ns[i].what);
	}
	return berth_error(err, 0, "--%s: invalid mode", flag);
}

char *ctr_capability(const char *s)
{
	char *c;
	if (strcasecmp(s, "ALL") == 0)
		c = xstrdup("ALL");
	else
		c = strncasecmp(s, "CAP_", 4) == 0 ? xstrdup(s) : xasprintf("CAP_%s", s);
	for (char *p = c; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	return c;
}
