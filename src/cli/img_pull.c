/* img_pull.c - pull and push, with docker's progress output. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/berth.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "image/auth.h"
#include "image/manifest.h"
#include "image/pull.h"
#include "image/push.h"
#include "image/reference.h"
#include "image/store.h"

/* Per-layer lines, redrawn in place on a terminal (as `docker pull`). */
struct progress {
	bool tty;
	bool quiet;
	char **ids; /* layer short ids in first-seen order */
	size_t n;
};

static size_t line_of(struct progress *pr, const char *id)
{
	for (size_t i = 0; i < pr->n; i++)
		if (strcmp(pr->ids[i], id) == 0)
			return i;
	pr->ids = xrealloc(pr->ids, (pr->n + 1) * sizeof(char *));
	pr->ids[pr->n] = xstrdup(id);
	if (pr->tty)
		printf("\n");
	return pr->n++;
}

static void layer_line(struct progress *pr, const char *id, const char *status, bool transient)
{
	if (pr->quiet)
		return;
	if (!pr->tty) {
		if (!transient)
			printf("%s: %s\n", id, status);
		return;
	}
	size_t i = line_of(pr, id);
	size_t up = pr->n - i;
	printf("\033[%zuA\r\033[2K%s: %s\033[%zuB\r", up, id, status, up);
	fflush(stdout);
}

static void bar_line(struct progress *pr, const char *id, const char *verb, uint64_t done,
		     uint64_t total)
{
	if (!pr->tty || pr->quiet)
		return;
	char bar[51];
	size_t fill = total ? (size_t)(50.0 * (double)done / (double)total) : 0;
	for (size_t k = 0; k < 50; k++)
		bar[k] = k < fill ? '=' : k == fill ? '>' : ' ';
	bar[50] = '\0';
	_cleanup_free_ char *a = human_size((double)done);
	_cleanup_free_ char *b = human_size((double)total);
	_cleanup_free_ char *s = xasprintf("%s [%s]  %s/%s", verb, bar, a, b);
	layer_line(pr, id, s, true);
}

static void progress_free(struct progress *pr)
{
	for (size_t i = 0; i < pr->n; i++)
		free(pr->ids[i]);
	free(pr->ids);
}

static void on_pull(void *opaque, const struct pull_event_info *ev)
{
	struct progress *pr = opaque;
	switch (ev->kind) {
	case PULL_RESOLVED:
		if (!pr->quiet)
			printf("%s\n", ev->text);
		break;
	case PULL_LAYER_EXISTS: layer_line(pr, ev->layer, "Already exists", false); break;
	case PULL_LAYER_WAITING: layer_line(pr, ev->layer, "Pulling fs layer", false); break;
	case PULL_LAYER_PROGRESS:
		bar_line(pr, ev->layer, "Downloading", ev->done, ev->total);
		break;
	case PULL_LAYER_VERIFY: layer_line(pr, ev->layer, "Verifying Checksum", false); break;
	case PULL_LAYER_DOWNLOADED: layer_line(pr, ev->layer, "Download complete", false); break;
	case PULL_LAYER_DONE: layer_line(pr, ev->layer, "Pull complete", false); break;
	case PULL_DIGEST:
		if (!pr->quiet)
			printf("Digest: %s\n", ev->text);
		break;
	}
	fflush(stdout);
}

static void on_push(void *opaque, const struct push_event_info *ev)
{
	struct progress *pr = opaque;
	switch (ev->kind) {
	case PUSH_REPO:
	case PUSH_DIGEST:
		if (!pr->quiet)
			printf("%s\n", ev->text);
		break;
	case PUSH_PREPARING: layer_line(pr, ev->layer, "Preparing", false); break;
	case PUSH_EXISTS: layer_line(pr, ev->layer, "Layer already exists", false); break;
	case PUSH_MOUNTED: layer_line(pr, ev->layer, ev->text, false); break;
	case PUSH_PROGRESS: bar_line(pr, ev->layer, "Pushing", ev->done, ev->total); break;
	case PUSH_PUSHED: layer_line(pr, ev->layer, "Pushed", false); break;
	}
	fflush(stdout);
}

/* Registry options from the global flags and the stored credentials. */
static int registry_opts_for(const char *domain, struct registry_opts *ro, char **user, char **pass,
			     berth_err *err)
{
	memset(ro, 0, sizeof(*ro));
	ro->certs_dir = berth.certs_dir;
	ro->insecure = (const char *const *)berth.insecure;
	ro->mirror = berth.mirror;
	*user = *pass = NULL;
	int r = auth_lookup(berth.config_dir, domain, user, pass, err);
	if (r < 0)
		return r;
	ro->username = *user;
	ro->password = *pass;
	return 0;
}

/* Did the user give a tag or digest? ("host:5000/x" has a port, not a tag.) */
static bool has_tag_or_digest(const char *name)
{
	const char *slash = strrchr(name, '/');
	const char *last = slash ? slash + 1 : name;
	return strchr(last, ':') || strchr(name, '@');
}

int cmd_pull(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "platform", required_argument, NULL, 'p' },
		{ "disable-content-trust", optional_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	const char *platform = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'p': platform = optarg; break;
		case 'T': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return berth_usage_error(argv[0], "\"pull\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	if (berth_pull(argv[optind], platform, quiet, &err) < 0)
		return berth_fail(&err);
	return 0;
}

int berth_pull(const char *name, const char *platform, bool quiet, berth_err *err)
{
	struct image_ref ref = { 0 };
	int r;
	if ((r = image_ref_parse(name, &ref, err)) < 0)
		return r;
	struct image_platform plat = { 0 };
	if (platform && (r = platform_parse(platform, &plat, err)) < 0) {
		image_ref_free(&ref);
		return r;
	}
	struct image_store *s = berth_store(err);
	struct pull_opts po = { .platform = platform ? &plat : NULL, .event = on_pull };
	_cleanup_free_ char *user = NULL, *pass = NULL;
	struct progress pr = { .tty = berth_is_tty(), .quiet = quiet };
	po.opaque = &pr;
	r = 0;
	if (!s)
		r = -EIO;
	else if ((r = registry_opts_for(ref.domain, &po.registry, &user, &pass, err)) >= 0) {
		if (!quiet && !has_tag_or_digest(name))
			printf("Using default tag: %s\n", IMAGE_DEFAULT_TAG);
		struct pull_result res;
		if ((r = image_pull(s, name, &po, &res, err)) >= 0) {
			_cleanup_free_ char *fam = image_ref_familiar(&ref);
			_cleanup_free_ char *canon = image_ref_string(&ref);
			if (!quiet)
				printf("Status: %s for %s\n",
				       res.downloaded ? "Downloaded newer image"
						      : "Image is up to date",
				       fam);
			printf("%s\n", canon);
			pull_result_free(&res);
		}
	}
	progress_free(&pr);
	platform_free(&plat);
	image_ref_free(&ref);
	return r < 0 ? r : 0;
}

int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "disable-content-trust", optional_argument, NULL, 'T' },
		{ NULL, 0, NULL, 0 },
	};
	bool quiet = false;
	int c;
	while ((c = getopt_long(argc, argv, "+q", opts, NULL)) != -1) {
		switch (c) {
		case 'q': quiet = true; break;
		case 'T': break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return berth_usage_error(argv[0], "\"push\" requires exactly 1 argument.");
	const char *name = argv[optind];
	berth_err err = BERTH_ERR_INIT;
	struct image_ref ref = { 0 };
	if (image_ref_parse(name, &ref, &err) < 0)
		return berth_fail(&err);
	if (ref.digest) {
		image_ref_free(&ref);
		berth_error_code(&err, 22, "cannot push a digest reference");
		return berth_fail(&err);
	}
	struct image_store *s = berth_store(&err);
	struct push_opts po = { .event = on_push };
	_cleanup_free_ char *user = NULL, *pass = NULL, *digest = NULL;
	struct progress pr = { .tty = berth_is_tty(), .quiet = quiet };
	po.opaque = &pr;
	int rc = 0;
	if (!s || registry_opts_for(ref.domain, &po.registry, &user, &pass, &err) < 0 ||
	    image_push(s, name, &po, &digest, &err) < 0)
		rc = berth_fail(&err);
	else if (quiet)
		printf("%s\n", name);
	progress_free(&pr);
	image_ref_free(&ref);
	return rc;
}
