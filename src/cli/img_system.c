/* img_system.c - system df and system check (the store's side of them). */
#include <getopt.h>
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
#include "image/store.h"

static const char *const df_headers[] = { "Type",        "TYPE",        "TotalCount", "TOTAL",
					  "Active",      "ACTIVE",      "Size",       "SIZE",
					  "Reclaimable", "RECLAIMABLE", NULL };

int cmd_system_df(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format =
		"table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}";
	int c;
	while ((c = getopt_long(argc, argv, "+v", opts, NULL)) != -1) {
		switch (c) {
		case 'F': format = optarg; break;
		case 'v': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	struct image_info *list = NULL;
	size_t n = 0;
	if (image_store_list(s, &list, &n, &err) < 0)
		return berth_fail(&err);
	/* Layers shared by several images count once. */
	uint64_t size = 0;
	_cleanup_strv_ char **seen = xcalloc(1, sizeof(char *));
	size_t nseen = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t l = 0; list[i].chain_ids[l]; l++) {
			bool dup = false;
			for (size_t k = 0; k < nseen && !dup; k++)
				dup = strcmp(seen[k], list[i].chain_ids[l]) == 0;
			if (dup)
				continue;
			seen = xrealloc(seen, (nseen + 2) * sizeof(char *));
			seen[nseen++] = xstrdup(list[i].chain_ids[l]);
			seen[nseen] = NULL;
			size += (uint64_t)list[i].layer_sizes[l];
		}
	}
	image_info_list_free(list, n);
	struct fmt_template *t = NULL;
	if (fmt_compile(format, df_headers, &t, &err) < 0)
		return berth_fail(&err);
	_cleanup_free_ char *hs = human_size((double)size);
	/* No containers use images yet: all of it is reclaimable. */
	_cleanup_free_ char *rec = size ? xasprintf("%s (100%%)", hs) : xstrdup(hs);
	_cleanup_free_ char *total = xasprintf("%zu", n);
	_cleanup_json_ json_t *rows = json_pack(
		"[{s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s}, {s:s, s:s, s:s, s:s, s:s},"
		" {s:s, s:s, s:s, s:s, s:s}]",
		"Type", "Images", "TotalCount", total, "Active", "0", "Size", hs, "Reclaimable",
		rec, "Type", "Containers", "TotalCount", "0", "Active", "0", "Size", "0B",
		"Reclaimable", "0B", "Type", "Local Volumes", "TotalCount", "0", "Active", "0",
		"Size", "0B", "Reclaimable", "0B", "Type", "Build Cache", "TotalCount", "0",
		"Active", "0", "Size", "0B", "Reclaimable", "0B");
	int rc = fmt_print(t, rows, stdout, &err) < 0 ? berth_fail(&err) : 0;
	fmt_free(t);
	return rc;
}

int cmd_system_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fix", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	bool fix = false, quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fix = true; break;
		case 'q': quiet = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	berth_err err = BERTH_ERR_INIT;
	struct image_store *s = berth_store(&err);
	if (!s)
		return berth_fail(&err);
	struct store_check_report rep;
	if (image_store_check(s, fix, &rep, &err) < 0)
		return berth_fail(&err);
	for (size_t i = 0; i < rep.problems; i++)
		printf("%s\n", rep.lines[i]);
	if (!quiet)
		printf("%zu problem%s found%s\n", rep.problems, rep.problems == 1 ? "" : "s",
		       fix && rep.problems ? ", fixed where possible" : "");
	size_t problems = rep.problems;
	strv_free(rep.lines);
	return problems && !fix ? 1 : 0;
}
