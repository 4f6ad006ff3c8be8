/* vol.c - `berth volume create|ls|inspect|rm|prune`, as the docker CLI. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/berth.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/volume.h"

/* "k=v" (or "k", an empty value) into an object; false when the key is empty. */
static bool set_pair(json_t *o, const char *arg)
{
	const char *eq = strchr(arg, '=');
	_cleanup_free_ char *key = eq ? xstrndup(arg, (size_t)(eq - arg)) : xstrdup(arg);
	if (!key[0])
		return false;
	json_object_set_new(o, key, json_string(eq ? eq + 1 : ""));
	return true;
}

int cmd_volume_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "driver", required_argument, NULL, 'd' },
		{ "label", required_argument, NULL, 'l' },
		{ "opt", required_argument, NULL, 'o' },
		{ "name", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_json_ json_t *labels = json_object();
	_cleanup_json_ json_t *options = json_object();
	const char *driver = "local", *name = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+d:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'd': driver = optarg; break;
		case 'n': name = optarg; break;
		case 'l':
			if (!set_pair(labels, optarg))
				return berth_usage_error(argv[0], "invalid label '%s'", optarg);
			break;
		case 'o':
			if (!strchr(optarg, '=') || !set_pair(options, optarg))
				return berth_usage_error(
					argv[0],
					"invalid argument \"%s\" for \"-o, --opt\" "
					"flag: invalid key value pair format",
					optarg);
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return berth_usage_error(argv[0], "\"create\" requires at most 1 argument.");
	if (optind < argc) {
		if (name && strcmp(name, argv[optind]) != 0)
			return berth_usage_error(
				argv[0], "conflicting options: either specify --name or provide "
					 "positional arg, not both");
		name = argv[optind];
	}
	berth_err err = BERTH_ERR_INIT;
	if (strcmp(driver, "local") != 0) {
		berth_error_code(&err, ENOENT,
				 "create %s: plugin \"%s\" not found: berth has only the local "
				 "volume driver",
				 name ? name : "volume", driver);
		return berth_fail(&err);
	}
	struct volume_store *v = berth_volumes(&err);
	if (!v)
		return berth_fail(&err);
	_cleanup_free_ char *made = NULL;
	if (volume_create(v, name, labels, json_object_size(options) ? options : NULL, NULL, &made,
			  &err) < 0)
		return berth_fail(&err);
	printf("%s\n", made);
	return 0;
}

/* ---- volume ls -------------------------------------------------------------- */

static const char *const volume_headers[] = { "Name", "VOLUME NAME", "Mountpoint", "MOUNTPOINT",
					      NULL };

struct volume_filters {
	int dangling; /* -1 any, 0 in use, 1 unused */
	char **names, **labels, **drivers;
};

static void strv_add(char ***v, const char *s)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	*v = xrealloc(*v, (n + 2) * sizeof(char *));
	(*v)[n] = xstrdup(s);
	(*v)[n + 1] = NULL;
}

static void filters_release(struct volume_filters *f)
{
	strv_free(f->names);
	strv_free(f->labels);
	strv_free(f->drivers);
}

static bool parse_filter(struct volume_filters *f, const char *arg)
{
	if (strncmp(arg, "dangling=", 9) == 0) {
		const char *b = arg + 9;
		if (strcmp(b, "true") == 0 || strcmp(b, "1") == 0)
			f->dangling = 1;
		else if (strcmp(b, "false") == 0 || strcmp(b, "0") == 0)
			f->dangling = 0;
		else
			return false;
	} else if (strncmp(arg, "name=", 5) == 0) {
		strv_add(&f->names, arg + 5);
	} else if (strncmp(arg, "label=", 6) == 0) {
		strv_add(&f->labels, arg + 6);
	} else if (strncmp(arg, "driver=", 7) == 0) {
		strv_add(&f->drivers, arg + 7);
	} else {
		return false;
	}
	return true;
}

static bool label_match(json_t *labels, const char *want)
{
	const char *eq = strchr(want, '=');
	_cleanup_free_ char *key = eq ? xstrndup(want, (size_t)(eq - want)) : xstrdup(want);
	json_t *val = json_is_object(labels) ? json_object_get(labels, key) : NULL;
	return val && (!eq || (json_is_string(val) && strcmp(json_string_value(val), eq + 1) == 0));
}

/* Docker's filters: several values of one key are alternatives (any), keys
 * must all match; labels must all match. */
static bool wanted(struct volume_store *v, const struct volume_filters *f, json_t *vol,
		   berth_err *err)
{
	const char *name = json_string_value(json_object_get(vol, "Name"));
	bool ok = !f->names;
	for (size_t i = 0; f->names && f->names[i]; i++)
		if (strstr(name, f->names[i]))
			ok = true;
	if (!ok)
		return false;
	ok = !f->drivers;
	for (size_t i = 0; f->drivers && f->drivers[i]; i++)
		if (strcmp(f->drivers[i], "local") == 0)
			ok = true;
	if (!ok)
		return false;
	for (size_t i = 0; f->labels && f->labels[i]; i++)
		if (!label_match(json_object_get(vol, "Labels"), f->labels[i]))
			return false;
	if (f->dangling >= 0) {
		_cleanup_strv_ char **users = NULL;
		if (volume_users(v, name, &users, err) < 0)
			return false;
		if ((users[0] == NULL) != (f->dangling == 1))
			return false;
	}
	return true;
}

/* The row `volume ls` templates see: Labels as Docker's "k=v,k2=v2". */
static json_t *ls_row(json_t *vol)
{
	json_t *row = json_deep_copy(vol);
	struct strbuf sb = STRBUF_INIT;
	json_t *labels = json_object_get(vol, "Labels");
	_cleanup_json_ json_t *sorted = json_is_object(labels) ? json_object_sorted(labels) : NULL;
	const char *k;
	json_t *val;
	size_t n = 0;
	if (sorted)
		json_object_foreach (sorted, k, val)
			strbuf_addf(&sb, "%s%s=%s", n++ ? "," : "", k,
				    json_is_string(val) ? json_string_value(val) : "");
	json_object_set_new(row, "Labels", json_string(sb.buf));
	strbuf_release(&sb);
	json_object_set_new(row, "Links", json_string("N/A"));
	json_object_set_new(row, "Size", json_string("N/A"));
	return row;
}

int cmd_volume_ls(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "filter", required_argument, NULL, 'f' },
		{ "format", required_argument, NULL, 'F' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	__attribute__((cleanup(filters_release))) struct volume_filters f = { .dangling = -1 };
	const char *format = NULL;
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!parse_filter(&f, optarg))
				return berth_usage_error(
					argv[0],
					"invalid filter '%s' (dangling=, name=, label=, driver=)",
					optarg);
			break;
		case 'F': format = optarg; break;
		case 'q': quiet = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"ls\" accepts no arguments.");
	if (quiet)
		format = "{{.Name}}";
	else if (!format || strcmp(format, "table") == 0)
		format = "table {{.Driver}}\t{{.Name}}";
	else if (strcmp(format, "json") == 0) /* docker: one JSON object a line */
		format = "{{json .}}";
	berth_err err = BERTH_ERR_INIT;
	struct fmt_template *t = NULL;
	if (fmt_compile(format, volume_headers, &t, &err) < 0)
		return berth_fail(&err);
	struct volume_store *v = berth_volumes(&err);
	_cleanup_json_ json_t *all = NULL;
	if (!v || volume_list(v, &all, &err) < 0) {
		fmt_free(t);
		return berth_fail(&err);
	}
	_cleanup_json_ json_t *rows = json_array();
	size_t i;
	json_t *vol;
	json_array_foreach (all, i, vol) {
		if (!wanted(v, &f, vol, &err)) {
			if (err.msg) {
				fmt_free(t);
				return berth_fail(&err);
			}
			continue;
		}
		json_array_append_new(rows, ls_row(vol));
	}
	int rc = fmt_print(t, rows, stdout, &err) < 0 ? berth_fail(&err) : 0;
	fmt_free(t);
	return rc;
}

/* ---- volume inspect, rm ------------------------------------------------------ */

static json_t *volume_inspect_one(const char *name, void *opaque, berth_err *err)
{
	json_t *o = NULL;
	return volume_get(opaque, name, &o, err) < 0 ? NULL : o;
}

int cmd_volume_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		/* docker: "json" is the default output */
		format = strcmp(optarg, "json") == 0 ? NULL : optarg;
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"inspect\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct volume_store *v = berth_volumes(&err);
	if (!v)
		return berth_fail(&err);
	int rc = fmt_inspect(format, argv + optind, argc - optind, volume_inspect_one, v, &err);
	return rc < 0 ? berth_fail(&err) : rc;
}

int cmd_volume_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;
	while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
		if (c != 'f')
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		force = true;
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"rm\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct volume_store *v = berth_volumes(&err);
	if (!v)
		return berth_fail(&err);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		if (volume_remove(v, argv[i], force, &err) < 0) {
			fprintf(stderr, "berth: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}

/* ---- volume prune ------------------------------------------------------------ */

/* "Deleted Volumes:" and their names; what they held added to *reclaimed. */
static int prune_volumes_labeled(bool all, json_t *labels, uint64_t *reclaimed, berth_err *err)
{
	struct volume_store *v = berth_volumes(err);
	if (!v)
		return -EIO;
	_cleanup_strv_ char **removed = NULL;
	uint64_t bytes = 0;
	int r = volume_prune(v, all, labels, &removed, &bytes, err);
	if (r < 0)
		return r;
	if (removed && removed[0]) {
		printf("Deleted Volumes:\n");
		for (size_t i = 0; removed[i]; i++)
			printf("%s\n", removed[i]);
		printf("\n");
	}
	*reclaimed += bytes;
	return 0;
}

int cmd_volume_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, force = false;
	_cleanup_json_ json_t *labels = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+af", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'F':
			if (!labels)
				labels = json_array();
			if (strncmp(optarg, "label=", 6) == 0) {
				json_array_append_new(labels, json_string(optarg + 6));
			} else if (strncmp(optarg, "label!=", 7) == 0) {
				_cleanup_free_ char *neg = xasprintf("!%s", optarg + 7);
				json_array_append_new(labels, json_string(neg));
			} else if (strcmp(optarg, "all=true") == 0 ||
				   strcmp(optarg, "all=1") == 0) {
				all = true;
			} else {
				return berth_usage_error(
					argv[0], "invalid filter '%s' (label, label!=)", optarg);
			}
			break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"prune\" accepts no arguments.");
	if (!force) {
		printf("WARNING! This will remove %s local volumes not used by at least one "
		       "container.\nAre you sure you want to continue? [y/N] ",
		       all ? "all" : "anonymous");
		fflush(stdout);
		char answer[16] = "";
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	berth_err err = BERTH_ERR_INIT;
	uint64_t reclaimed = 0;
	if (prune_volumes_labeled(all, labels, &reclaimed, &err) < 0)
		return berth_fail(&err);
	_cleanup_free_ char *hs = human_size((double)reclaimed);
	printf("Total reclaimed space: %s\n", hs);
	return 0;
}

int prune_volumes(bool all, uint64_t *reclaimed, berth_err *err)
{
	return prune_volumes_labeled(all, NULL, reclaimed, err);
}
