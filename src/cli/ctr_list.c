/* ctr_list.c - `berth ps` / `container ls`: docker's columns, filters and --format. */
#include <errno.h>
#include <fnmatch.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/berth.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "image/reference.h"
#include "image/store.h"

static const char *const ps_headers[] = {
	"ID",      "CONTAINER ID", "Image",     "IMAGE",      "Command",  "COMMAND", "RunningFor",
	"CREATED", "Status",       "STATUS",    "Ports",      "PORTS",    "Names",   "NAMES",
	"Size",    "SIZE",         "CreatedAt", "CREATED AT", "State",    "STATE",   "Labels",
	"LABELS",  "Mounts",       "MOUNTS",    "Networks",   "NETWORKS", NULL
};

static time_t parse_time(const char *s)
{
	time_t t = 0;
	return s && time_parse_rfc3339(s, &t) == 0 ? t : 0;
}

/* Docker's STATUS column: "Up 5 minutes", "Exited (0) 2 seconds ago", "Created". */
static char *status_text(json_t *state, time_t now)
{
	const char *s = json_string_value(json_object_get(state, "Status")) ?: "created";
	time_t started = parse_time(json_string_value(json_object_get(state, "StartedAt")));
	time_t finished = parse_time(json_string_value(json_object_get(state, "FinishedAt")));
	json_int_t code = json_integer_value(json_object_get(state, "ExitCode"));
	if (!strcmp(s, "running") || !strcmp(s, "paused")) {
		_cleanup_free_ char *d = human_duration(now - started);
		const char *h = json_string_value(
			json_object_get(json_object_get(state, "Health"), "Status"));
		const char *hs = !h                        ? ""
				 : !strcmp(h, "starting")  ? " (health: starting)"
				 : !strcmp(h, "healthy")   ? " (healthy)"
				 : !strcmp(h, "unhealthy") ? " (unhealthy)"
							   : "";
		return xasprintf("Up %s%s%s", d, !strcmp(s, "paused") ? " (Paused)" : "", hs);
	}
	if (!strcmp(s, "restarting")) {
		_cleanup_free_ char *d = human_duration(now - finished);
		return xasprintf("Restarting (%lld) %s ago", (long long)code, d);
	}
	if (!strcmp(s, "exited")) {
		_cleanup_free_ char *d = human_duration(now - finished);
		return xasprintf("Exited (%lld) %s ago", (long long)code, d);
	}
	if (!strcmp(s, "removing"))
		return xstrdup("Removal In Progress");
	if (!strcmp(s, "dead"))
		return xstrdup("Dead");
	return xstrdup("Created");
}

static char *command_text(json_t *insp, bool notrunc)
{
	struct strbuf sb;
	strbuf_init(&sb, 64);
	strbuf_addstr(&sb, json_string_value(json_object_get(insp, "Path")) ?: "");
	size_t i;
	json_t *a;
	json_array_foreach (json_object_get(insp, "Args"), i, a)
		strbuf_addf(&sb, " %s", json_string_value(a) ?: "");
	char *cmd = strbuf_detach(&sb, NULL);
	if (!notrunc && strlen(cmd) > 20) {
		/* docker cuts at 19 characters and adds an ellipsis */
		cmd[19] = 0;
		char *t = xasprintf("\"%s…\"", cmd);
		free(cmd);
		return t;
	}
	char *t = xasprintf("\"%s\"", cmd);
	free(cmd);
	return t;
}

static char *labels_text(json_t *labels)
{
	struct strbuf sb;
	strbuf_init(&sb, 64);
	_cleanup_json_ json_t *sorted = json_object_sorted(labels);
	const char *k;
	json_t *v;
	json_object_foreach (sorted, k, v) {
		if (sb.len)
			strbuf_addch(&sb, ',');
		strbuf_addf(&sb, "%s=%s", k, json_string_value(v) ?: "");
	}
	return strbuf_detach(&sb, NULL);
}

/* As the user typed it, as docker shows it. */
static char *image_text(json_t *insp)
{
	return xstrdup(json_string_value(json_object_get(json_object_get(insp, "Config"), "Image")) ?: "");
}

/* docker ps's PORTS: "0.0.0.0:8080->80/tcp, 53/udp" (exposed, not published). */
static char *ports_text(json_t *insp)
{
	json_t *ports = json_object_get(json_object_get(insp, "NetworkSettings"), "Ports");
	size_t n = 0;
	const char **keys = xcalloc(json_object_size(ports) + 1, sizeof(*keys));
	const char *key;
	json_t *v;
	json_object_foreach (ports, key, v)
		keys[n++] = key;
	qsort(keys, n, sizeof(*keys), port_key_cmp);
	struct strbuf sb;
	strbuf_init(&sb, 64);
	for (size_t i = 0; i < n; i++) {
		json_t *list = json_object_get(ports, keys[i]);
		if (json_array_size(list) == 0) {
			strbuf_addf(&sb, "%s%s", sb.len ? ", " : "", keys[i]);
			continue;
		}
		size_t j;
		json_t *b;
		json_array_foreach (list, j, b)
			strbuf_addf(&sb, "%s%s:%s->%s", sb.len ? ", " : "",
				    json_string_value(json_object_get(b, "HostIp")) ?: "",
				    json_string_value(json_object_get(b, "HostPort")) ?: "", keys[i]);
	}
	free(keys);
	return strbuf_detach(&sb, NULL);
}

/* docker ps's NETWORKS: the names of the networks it is on. */
static char *networks_text(json_t *insp)
{
	json_t *nets = json_object_get(json_object_get(insp, "NetworkSettings"), "Networks");
	struct strbuf sb;
	strbuf_init(&sb, 32);
	const char *key;
	json_t *v;
	json_object_foreach (nets, key, v)
		strbuf_addf(&sb, "%s%s", sb.len ? "," : "", key);
	return strbuf_detach(&sb, NULL);
}

static json_t *row_of(json_t *insp, bool notrunc, time_t now)
{
	const char *id = json_string_value(json_object_get(insp, "Id")) ?: "";
	json_t *state = json_object_get(insp, "State");
	json_t *cfg = json_object_get(insp, "Config");
	time_t created = parse_time(json_string_value(json_object_get(insp, "Created")));
	_cleanup_free_ char *status = status_text(state, now), *cmd = command_text(insp, notrunc);
	_cleanup_free_ char *labels = labels_text(json_object_get(cfg, "Labels"));
	_cleanup_free_ char *ago = human_duration(now - created);
	_cleanup_free_ char *created_at = time_go_string(created);
	_cleanup_free_ char *image = image_text(insp);
	const char *name = json_string_value(json_object_get(insp, "Name")) ?: "/";
	struct strbuf mounts;
	strbuf_init(&mounts, 32);
	size_t i;
	json_t *m;
	json_array_foreach (json_object_get(insp, "Mounts"), i, m) {
		const char *n = json_string_value(json_object_get(m, "Name"));
		const char *src = json_string_value(json_object_get(m, "Source")) ?: "";
		if (mounts.len)
			strbuf_addch(&mounts, ',');
		strbuf_addf(&mounts, "%.15s", n ? n : src);
	}
	json_t *row = json_object();
	json_object_set_new(row, "ID", json_stringn(id, notrunc ? strlen(id) : 12));
	json_object_set_new(row, "Image", json_string(image));
	json_object_set_new(row, "Command", json_string(cmd));
	json_object_set_new(row, "RunningFor", json_sprintf("%s ago", ago));
	json_object_set_new(row, "CreatedAt", json_string(created_at));
	json_object_set_new(row, "Status", json_string(status));
	json_object_set_new(row, "State",
			    json_string(json_string_value(json_object_get(state, "Status")) ?: ""));
	_cleanup_free_ char *ports = ports_text(insp), *networks = networks_text(insp);
	json_object_set_new(row, "Ports", json_string(ports));
	json_object_set_new(row, "Names", json_string(name + 1));
	json_object_set_new(row, "Labels", json_string(labels));
	json_object_set_new(row, "Mounts", json_string(mounts.buf ? mounts.buf : ""));
	json_object_set_new(row, "Networks", json_string(networks));
	json_object_set_new(row, "Size", json_string("0B"));
	strbuf_release(&mounts);
	return row;
}

struct ps_filters {
	char **name, **label, **status, **ancestor, **id, **exited, **health;
};

static bool any_match(char **pats, bool (*fn)(const char *pat, json_t *insp), json_t *insp)
{
	if (!pats)
		return true;
	for (size_t i = 0; pats[i]; i++)
		if (fn(pats[i], insp))
			return true;
	return false;
}

static bool match_name(const char *pat, json_t *insp)
{
	const char *n = json_string_value(json_object_get(insp, "Name")) ?: "/";
	return strstr(n + 1, pat) != NULL; /* docker: a substring (regexp) match */
}

static bool match_id(const char *pat, json_t *insp)
{
	const char *id = json_string_value(json_object_get(insp, "Id")) ?: "";
	return strncmp(id, pat, strlen(pat)) == 0;
}

static bool match_status(const char *pat, json_t *insp)
{
	const char *s =
		json_string_value(json_object_get(json_object_get(insp, "State"), "Status")) ?: "";
	return !strcmp(s, pat);
}

static bool match_exited(const char *pat, json_t *insp)
{
	json_t *st = json_object_get(insp, "State");
	const char *s = json_string_value(json_object_get(st, "Status")) ?: "";
	return !strcmp(s, "exited") &&
	       json_integer_value(json_object_get(st, "ExitCode")) == atoi(pat);
}

static bool match_health(const char *pat, json_t *insp)
{
	json_t *h = json_object_get(json_object_get(insp, "State"), "Health");
	const char *s = json_string_value(json_object_get(h, "Status"));
	return s ? !strcmp(s, pat) : !strcmp(pat, "none");
}

static bool match_label(const char *pat, json_t *insp)
{
	json_t *labels = json_object_get(json_object_get(insp, "Config"), "Labels");
	const char *eq = strchr(pat, '=');
	_cleanup_free_ char *key = eq ? xstrndup(pat, (size_t)(eq - pat)) : xstrdup(pat);
	json_t *v = json_object_get(labels, key);
	return v && (!eq || !strcmp(json_string_value(v) ?: "", eq + 1));
}

static bool match_ancestor(const char *pat, json_t *insp)
{
	const char *image =
		json_string_value(json_object_get(json_object_get(insp, "Config"), "Image")) ?: "";
	const char *image_id = json_string_value(json_object_get(insp, "Image")) ?: "";
	if (!strcmp(image, pat))
		return true;
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	_cleanup_free_ char *want = NULL;
	if (s && image_store_resolve(s, pat, &want, &err) == 0)
		return !strcmp(want, image_id);
	berth_err_clear(&err);
	return false;
}

static int add_filter(struct ps_filters *f, const char *arg, berth_err *err)
{
	const char *eq = strchr(arg, '=');
	if (!eq)
		return berth_error_code(err, EINVAL, "bad format of filter (expected name=value)");
	_cleanup_free_ char *key = xstrndup(arg, (size_t)(eq - arg));
	const char *val = eq + 1;
	char ***slot = !strcmp(key, "name")       ? &f->name
		       : !strcmp(key, "label")    ? &f->label
		       : !strcmp(key, "status")   ? &f->status
		       : !strcmp(key, "ancestor") ? &f->ancestor
		       : !strcmp(key, "id")       ? &f->id
		       : !strcmp(key, "exited")   ? &f->exited
		       : !strcmp(key, "health")   ? &f->health
						  : NULL;
	if (!slot)
		return berth_error_code(err, EINVAL, "invalid filter '%s'", key);
	static const char *const statuses[] = { "created", "restarting", "running", "removing",
						"paused",  "exited",     "dead" };
	if (slot == &f->status) {
		bool ok = false;
		for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
			ok = ok || !strcmp(val, statuses[i]);
		if (!ok)
			return berth_error_code(err, EINVAL, "invalid filter 'status=%s'", val);
	}
	if (slot == &f->exited && strspn(val, "0123456789") != strlen(val))
		return berth_error_code(err, EINVAL, "invalid filter 'exited=%s'", val);
	strv_push(slot, val);
	return 0;
}

static bool wanted(struct ps_filters *f, json_t *insp)
{
	return any_match(f->name, match_name, insp) && any_match(f->id, match_id, insp) &&
	       any_match(f->status, match_status, insp) &&
	       any_match(f->exited, match_exited, insp) &&
	       any_match(f->health, match_health, insp) &&
	       any_match(f->ancestor, match_ancestor, insp) && (!f->label || ({
		       bool all = true;
		       for (size_t i = 0; f->label[i]; i++)
			       all = all && match_label(f->label[i], insp);
		       all;
	       }));
}

int cmd_ps(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "last", required_argument, NULL, 'n' },
		{ "latest", no_argument, NULL, 'l' },
		{ "size", no_argument, NULL, 's' },
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, quiet = false, notrunc = false, size = false;
	long last = -1;
	const char *format = NULL;
	struct ps_filters f = { 0 };
	berth_err err = BERTH_ERR_INIT;
	int c, rc = 0;
	while ((c = getopt_long(argc, argv, "+aqn:lsf:", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case 'n': last = strtol(optarg, NULL, 10); break;
		case 'l': last = 1; break;
		case 's': size = true; break;
		case 'T': notrunc = true; break;
		case 'f':
			if (add_filter(&f, optarg, &err) < 0)
				return berth_fail(&err);
			break;
		case 'F': format = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"ps\" accepts no arguments.");
	/* docker: -n and -l show stopped ones too; so do status/exited filters */
	if (last > 0 || f.status || f.exited)
		all = true;
	struct engine *e = berth_engine(&err);
	json_t *list = NULL;
	if (!e || ctr_list(e, &list, &err) < 0)
		return berth_fail(&err);
	if (!format)
		format = quiet  ? "{{.ID}}"
			 : size ? "table "
				  "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}"
				  "\t{{.Ports}}\t{{.Names}}\t{{.Size}}"
				: "table "
				  "{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}"
				  "\t{{.Ports}}\t{{.Names}}";
	struct fmt_template *t = NULL;
	if (fmt_compile(format, ps_headers, &t, &err) < 0) {
		json_decref(list);
		return berth_fail(&err);
	}
	json_t *rows = json_array();
	time_t now = time(NULL);
	size_t i;
	json_t *insp;
	long shown = 0;
	json_array_foreach (list, i, insp) {
		const char *s =
			json_string_value(json_object_get(json_object_get(insp, "State"), "Status"))
				?: "";
		if (!all && strcmp(s, "running") && strcmp(s, "paused") && strcmp(s, "restarting"))
			continue;
		if (!wanted(&f, insp))
			continue;
		if (last > 0 && shown >= last)
			break;
		shown++;
		json_array_append_new(rows, row_of(insp, notrunc, now));
	}
	if (fmt_print(t, rows, stdout, &err) < 0)
		rc = berth_fail(&err);
	fmt_free(t);
	json_decref(rows);
	json_decref(list);
	char **lists[] = { f.name, f.label, f.status, f.ancestor, f.id, f.exited, f.health };
	for (size_t k = 0; k < ARRAY_SIZE(lists); k++)
		strv_free(lists[k]);
	return rc;
}
