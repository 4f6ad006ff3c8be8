/* push.c - push an image from the store to a registry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/push.h"
#include "image/reference.h"
#include "image/store.h"

struct pusher {
	struct image_store *s;
	struct registry_client *c;
	const char *repo;
	const struct push_opts *o;
	char **mount_from; /* other repositories on the same registry holding the image */
};

static void emit(struct pusher *p, enum push_event kind, const char *layer, const char *text,
		 uint64_t done, uint64_t total)
{
	if (!p->o->event)
		return;
	struct push_event_info ev = { kind, layer, text, done, total };
	p->o->event(p->o->opaque, &ev);
}

struct progress_ctx {
	struct pusher *p;
	const char *layer;
};

static void on_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct progress_ctx *pc = opaque;
	emit(pc->p, PUSH_PROGRESS, pc->layer, NULL, done, total);
}

static int push_blob(struct pusher *p, const struct image_desc *d, berth_err *err)
{
	const char *hex = digest_hex(d->digest);
	char sid[13];
	snprintf(sid, sizeof(sid), "%.12s", hex ? hex : "");
	int64_t have = 0;
	int r = registry_blob_exists(p->c, p->repo, d->digest, &have, err);
	if (r < 0)
		return r;
	if (r == 1) {
		emit(p, PUSH_EXISTS, sid, NULL, 0, 0);
		return 0;
	}
	for (size_t i = 0; p->mount_from && p->mount_from[i]; i++) {
		if (strcmp(p->mount_from[i], p->repo) == 0)
			continue;
		r = registry_mount_blob(p->c, p->repo, d->digest, p->mount_from[i], err);
		if (r < 0)
			return r;
		if (r == 1) {
			_cleanup_free_ char *t = xasprintf("Mounted from %s", p->mount_from[i]);
			emit(p, PUSH_MOUNTED, sid, t, 0, 0);
			return 0;
		}
	}
	int64_t size;
	_cleanup_close_ int fd = image_store_open_blob(p->s, d->digest, &size, err);
	if (fd < 0)
		return berth_error_wrap(err, "push %s", d->digest);
	struct progress_ctx pc = { p, sid };
	if ((r = registry_put_blob(p->c, p->repo, d->digest, fd, size, on_progress, &pc, err)) < 0)
		return r;
	emit(p, PUSH_PUSHED, sid, NULL, 0, 0);
	return 0;
}

int image_push(struct image_store *s, const char *target, const struct push_opts *o,
	       char **digest_out, berth_err *err)
{
	_cleanup_ref_ struct image_ref ref = { 0 };
	int r = image_ref_parse(target, &ref, err);
	if (r < 0)
		return r;
	_cleanup_free_ char *id = NULL;
	if ((r = image_store_resolve(s, target, &id, err)) < 0)
		return r;
	_cleanup_image_info_ struct image_info im = { 0 };
	if ((r = image_store_info(s, id, &im, err)) < 0)
		return r;
	_cleanup_free_ char *body = NULL;
	size_t len;
	if ((r = image_store_read_blob(s, im.manifest_digest, MANIFEST_MAX_SIZE, &body, &len,
				       err)) < 0)
		return r;
	_cleanup_manifest_ struct image_manifest m = { 0 };
	if ((r = manifest_parse(body, len, &m, err)) < 0)
		return r;
	_cleanup_registry_client_ struct registry_client *c = NULL;
	if ((r = registry_client_new(ref.domain, &o->registry, &c, err)) < 0)
		return r;
	_cleanup_free_ char *repo_name = image_ref_repo(&ref);
	/* Repositories of the same registry that hold this image: mount sources. */
	_cleanup_strv_ char **from = xcalloc(1, sizeof(char *));
	size_t nf = 0;
	char **names[] = { im.repo_digests, im.tags };
	for (size_t k = 0; k < 2; k++) {
		for (size_t i = 0; names[k] && names[k][i]; i++) {
			struct image_ref o2 = { 0 };
			berth_err e = BERTH_ERR_INIT;
			if (image_ref_parse(names[k][i], &o2, &e) == 0 &&
			    strcmp(o2.domain, ref.domain) == 0 && strcmp(o2.path, ref.path) != 0) {
				from = xrealloc(from, (nf + 2) * sizeof(char *));
				from[nf++] = xstrdup(o2.path);
				from[nf] = NULL;
			}
			image_ref_free(&o2);
			berth_err_clear(&e);
		}
	}
	struct pusher p = { .s = s, .c = c, .repo = ref.path, .o = o, .mount_from = from };
	_cleanup_free_ char *head =
		xasprintf("The push refers to repository [%s]",
			  strcmp(ref.domain, IMAGE_DEFAULT_DOMAIN) == 0 ? repo_name : repo_name);
	emit(&p, PUSH_REPO, NULL, head, 0, 0);
	for (size_t i = m.n_layers; i-- > 0;) {
		const char *hex = digest_hex(m.layers[i].digest);
		char sid[13];
		snprintf(sid, sizeof(sid), "%.12s", hex ? hex : "");
		emit(&p, PUSH_PREPARING, sid, NULL, 0, 0);
	}
	for (size_t i = m.n_layers; i-- > 0;)
		if ((r = push_blob(&p, &m.layers[i], err)) < 0)
			return r;
	if ((r = push_blob(&p, &m.config, err)) < 0)
		return r;
	const char *tag = ref.tag ? ref.tag : IMAGE_DEFAULT_TAG;
	_cleanup_free_ char *digest = NULL;
	if ((r = registry_put_manifest(c, ref.path, tag, body, len, m.media_type, &digest, err)) <
	    0)
		return r;
	if (!digest) {
		char d[IMAGE_DIGEST_BUF];
		digest_buffer(body, len, d);
		digest = xstrdup(d);
	}
	_cleanup_free_ char *line = xasprintf("%s: digest: %s size: %zu", tag, digest, len);
	emit(&p, PUSH_DIGEST, NULL, line, 0, 0);
	*digest_out = TAKE_PTR(digest);
	return 0;
}
