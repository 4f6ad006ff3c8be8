/* ctr_commit.c - what a container changed in its image, and an image made
 * of those changes (`diff` and `commit`).
 *
 * A container's changes are its overlay upper dir, read against the image's
 * layers: an entry there that the image has is changed (C), one it lacks is
 * added (A), a whiteout (0:0 character device) over something the image has
 * is deleted (D). A directory that overlay only copied up to hold a change is
 * changed, as Docker reports it.
 *
 * Docker keeps the mount points the runtime needs (/etc/hosts, /proc, ...)
 * in a hidden init layer below the container's; here the runtime creates
 * the missing ones in upper, so an empty stub of those, absent from the
 * image, is no change of the container's (neither in diff nor in commit).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "image/archive.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/store.h"
#include "image/unpack.h"
#include "oci/state.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"

/* What Docker's init layer holds: mount points and files of the runtime's. */
static const char *const init_stubs[] = {
	"dev",       "dev/pts",      "dev/shm",         "dev/console", "proc",       "sys",
	"etc/hosts", "etc/hostname", "etc/resolv.conf", "etc/mtab",    ".dockerenv", NULL,
};

struct image_view {
	int *layers; /* O_RDONLY dirfds of the image's layers, top first */
	size_t n;
};

static void image_view_free(struct image_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		close(v->layers[i]);
	free(v->layers);
}

static int image_view_open(struct engine *e, const char *image_id, struct image_view *v,
			   berth_err *err)
{
	_cleanup_strv_ char **dirs = image_store_layer_dirs(e->store, image_id, err);
	if (!dirs)
		return -EIO;
	v->n = 0;
	v->layers = xcalloc(strv_length(dirs) + 1, sizeof(int));
	for (size_t i = 0; dirs[i]; i++) {
		int fd = open(dirs[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0) {
			int r = berth_error_errno(err, "cannot open the image layer %s", dirs[i]);
			image_view_free(v);
			return r;
		}
		v->layers[v->n++] = fd;
	}
	return 0;
}

static bool is_whiteout(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Does the image have rel (no leading "/")? Its stat when it does. Lookups
 * never follow a symlink of a layer's. */
static bool image_has(struct image_view *v, const char *rel, struct stat *out)
{
	_cleanup_free_ char *copy = xstrdup(rel);
	char *slash = strrchr(copy, '/');
	const char *base = slash ? slash + 1 : copy;
	if (slash)
		*slash = '\0';
	for (size_t i = 0; i < v->n; i++) {
		_cleanup_close_ int parent =
			slash ? path_open_no_symlinks(v->layers[i], copy,
						      O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, NULL)
			      : fcntl(v->layers[i], F_DUPFD_CLOEXEC, 3);
		if (parent == -ENOENT)
			continue;
		if (parent < 0)
			return false; /* a non-directory or a whiteout hides what is below */
		struct stat st;
		if (fstatat(parent, base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			if (is_whiteout(&st))
				return false;
			if (out)
				*out = st;
			return true;
		}
		char o;
		if (fgetxattr(parent, OPAQUE_XATTR, &o, 1) == 1 && o == 'y')
			return false;
	}
	return false;
}

static bool dir_empty(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return false;
	}
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	return empty;
}

/* An empty stub of the runtime's that the image does not have. */
static bool is_stub(struct image_view *v, int parent, const char *name, const char *rel,
		    const struct stat *st)
{
	bool listed = false;
	for (size_t i = 0; init_stubs[i] && !listed; i++)
		listed = !strcmp(init_stubs[i], rel);
	if (!listed)
		return false;
	if (!(S_ISREG(st->st_mode) && st->st_size == 0) &&
	    !(S_ISDIR(st->st_mode) && dir_empty(parent, name)))
		return false;
	return !image_has(v, rel, NULL);
}

struct differ {
	struct image_view *img;
	struct strbuf rel; /* the current path, no leading "/" */
	struct ctr_change *list;
	size_t n, cap;
	berth_err *err;
};

static void add_change(struct differ *d, char kind)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 32;
		d->list = xrealloc(d->list, d->cap * sizeof(*d->list));
	}
	d->list[d->n].kind = kind;
	d->list[d->n].path = xasprintf("/%s", d->rel.buf);
	d->n++;
}

/* Walk the upper dir dirfd at d->rel; *reported: something was reported in it. */
static int diff_dir(struct differ *d, int dirfd, bool hidden_below, bool *reported)
{
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return berth_error_errno(d->err, "cannot read /%s", d->rel.buf);
	_cleanup_dir_ DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return berth_error_errno(d->err, "cannot read /%s", d->rel.buf);
	}
	rewinddir(dir);
	struct dirent *de;
	while ((de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		size_t base = d->rel.len;
		if (base)
			strbuf_addch(&d->rel, '/');
		strbuf_addstr(&d->rel, de->d_name);
		struct stat st, img;
		int r = 0;
		if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = berth_error_errno(d->err, "cannot stat /%s", d->rel.buf);
		} else if (is_whiteout(&st)) {
			if (!hidden_below && image_has(d->img, d->rel.buf, NULL)) {
				add_change(d, 'D');
				*reported = true;
			}
		} else if (is_stub(d->img, dirfd, de->d_name, d->rel.buf, &st)) {
			/* the runtime's, not the container's */
		} else {
			bool in_image = !hidden_below && image_has(d->img, d->rel.buf, &img);
			if (S_ISDIR(st.st_mode)) {
				_cleanup_close_ int sub =
					openat(dirfd, de->d_name,
					       O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
				char o = 0;
				bool opaque = sub >= 0 &&
					      fgetxattr(sub, OPAQUE_XATTR, &o, 1) == 1 && o == 'y';
				bool inner = false;
				if (sub < 0)
					r = berth_error_errno(d->err, "cannot open /%s",
							      d->rel.buf);
				else
					r = diff_dir(d, sub, hidden_below || opaque, &inner);
				bool meta = in_image &&
					    ((img.st_mode ^ st.st_mode) & (S_IFMT | 07777) ||
					     img.st_uid != st.st_uid || img.st_gid != st.st_gid);
				if (r == 0 && (!in_image || inner || opaque || meta)) {
					add_change(d, in_image ? 'C' : 'A');
					*reported = true;
				}
			} else {
				add_change(d, in_image ? 'C' : 'A');
				*reported = true;
			}
		}
		strbuf_setlen(&d->rel, base);
		if (r < 0)
			return r;
	}
	return 0;
}

static int change_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ctr_change *)a)->path, ((const struct ctr_change *)b)->path);
}

void ctr_changes_free(struct ctr_change *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].path);
	free(c);
}

/* A container never started has no upper dir yet: an empty one stands in. */
static int open_upper(struct engine *e, const char *id, berth_err *err)
{
	_cleanup_free_ char *dir = ctr_dir(e, id);
	_cleanup_free_ char *upper = xasprintf("%s/upper", dir);
	int fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT && mkdir_parents(upper, 0755) == 0)
		fd = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open the container's layer %s", upper);
	return fd;
}

int ctr_changes(struct engine *e, const char *id, struct ctr_change **out, size_t *n,
		berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0)
		return r;
	_cleanup_close_ int upper = open_upper(e, id, err);
	if (upper < 0)
		return upper;
	struct image_view img;
	if ((r = image_view_open(e, row.image_id, &img, err)) < 0)
		return r;
	struct differ d = { .img = &img, .rel = STRBUF_INIT, .err = err };
	bool any = false;
	r = diff_dir(&d, upper, false, &any);
	image_view_free(&img);
	strbuf_release(&d.rel);
	if (r < 0) {
		ctr_changes_free(d.list, d.n);
		return r;
	}
	if (d.n)
		qsort(d.list, d.n, sizeof(*d.list), change_cmp);
	*out = d.list;
	*n = d.n;
	return 0;
}

/* ---- commit ------------------------------------------------------------------- */

/* The stubs of the runtime's in upper, for layer_pack_excluding(). */
static char **stubs_in(struct image_view *img, int upper)
{
	char **v = xcalloc(1, sizeof(char *));
	for (size_t i = 0; init_stubs[i]; i++) {
		const char *rel = init_stubs[i];
		const char *slash = strrchr(rel, '/');
		_cleanup_free_ char *pdir = slash ? xstrndup(rel, (size_t)(slash - rel)) : NULL;
		const char *name = slash ? slash + 1 : rel;
		_cleanup_close_ int parent =
			pdir ? path_open_no_symlinks(upper, pdir,
						     O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, NULL)
			     : fcntl(upper, F_DUPFD_CLOEXEC, 3);
		struct stat st;
		if (parent < 0 || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (is_stub(img, parent, name, rel, &st))
			strv_push(&v, rel);
	}
	return v;
}

/* Docker's merge of a committed container's config with its image's: what
 * the container sets wins, what it leaves unset comes from the image. */
static json_t *merged_config(json_t *ctr, json_t *image)
{
	json_t *out = json_object();
	static const char *const strings[] = { "User", "WorkingDir", "StopSignal" };
	for (size_t i = 0; i < ARRAY_SIZE(strings); i++) {
		const char *c = json_string_value(json_object_get(ctr, strings[i]));
		const char *m = json_string_value(json_object_get(image, strings[i]));
		if ((c && *c) || (m && *m))
			json_object_set_new(out, strings[i], json_string(c && *c ? c : m));
	}
	static const char *const maps[] = { "ExposedPorts", "Volumes", "Labels" };
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		json_t *m = json_object();
		json_t *a = json_object_get(image, maps[i]), *b = json_object_get(ctr, maps[i]);
		if (json_is_object(a))
			json_object_update(m, a);
		if (json_is_object(b))
			json_object_update(m, b);
		if (json_object_size(m))
			json_object_set_new(out, maps[i], m);
		else
			json_decref(m);
	}
	/* Env: the container's, then the image's variables it does not set. */
	json_t *env = json_array();
	json_t *ce = json_object_get(ctr, "Env"), *ie = json_object_get(image, "Env");
	size_t i;
	json_t *v;
	json_array_foreach (ce, i, v)
		json_array_append(env, v);
	json_array_foreach (ie, i, v) {
		const char *s = json_string_value(v);
		if (!s)
			continue;
		size_t kl = strcspn(s, "=");
		bool set = false;
		size_t j;
		json_t *w;
		json_array_foreach (ce, j, w) {
			const char *t = json_string_value(w);
			set = set || (t && !strncmp(t, s, kl) && (t[kl] == '=' || !t[kl]));
		}
		if (!set)
			json_array_append(env, v);
	}
	if (json_array_size(env))
		json_object_set_new(out, "Env", env);
	else
		json_decref(env);
	json_t *cc = json_object_get(ctr, "Cmd"), *cep = json_object_get(ctr, "Entrypoint");
	bool c_cmd = json_is_array(cc) && json_array_size(cc);
	bool c_ep = json_is_array(cep) && json_array_size(cep);
	json_t *cmd = c_cmd ? cc : (c_ep ? NULL : json_object_get(image, "Cmd"));
	json_t *ep = c_ep ? cep : json_object_get(image, "Entrypoint");
	if (json_is_array(cmd))
		json_object_set(out, "Cmd", cmd);
	if (json_is_array(ep))
		json_object_set(out, "Entrypoint", ep);
	json_t *ob = json_object_get(image, "OnBuild");
	if (json_is_array(ob))
		json_object_set(out, "OnBuild", ob);
	return out;
}

static char *join_cmd(json_t *config)
{
	struct strbuf sb = STRBUF_INIT;
	size_t i;
	json_t *v;
	json_t *argv = json_array();
	json_array_extend(argv, json_is_array(json_object_get(config, "Entrypoint"))
					? json_object_get(config, "Entrypoint")
					: NULL);
	json_array_extend(argv, json_is_array(json_object_get(config, "Cmd"))
					? json_object_get(config, "Cmd")
					: NULL);
	json_array_foreach (argv, i, v) {
		if (i)
			strbuf_addch(&sb, ' ');
		strbuf_addstr(&sb, json_string_value(v) ?: "");
	}
	json_decref(argv);
	return strbuf_detach(&sb, NULL);
}

static json_t *read_json_blob(struct engine *e, const char *digest, berth_err *err)
{
	_cleanup_free_ char *blob = NULL;
	size_t len;
	if (image_store_read_blob(e->store, digest, 4 << 20, &blob, &len, err) < 0)
		return NULL;
	json_t *j = json_loadb(blob, len, 0, NULL);
	if (!j)
		berth_error_code(err, EINVAL, "blob %s is not JSON", digest);
	return j;
}

/* The upper dir as an uncompressed layer blob. */
static int commit_layer(struct engine *e, struct image_view *img, const char *id,
			char diffid[IMAGE_DIGEST_BUF], int64_t *size, berth_err *err)
{
	_cleanup_close_ int upper = open_upper(e, id, err);
	if (upper < 0)
		return upper;
	_cleanup_free_ char *tmp = xasprintf("%s/tmp", image_store_root(e->store));
	_cleanup_close_ int fd = open(tmp, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_errno(err, "cannot make a temporary file in %s", tmp);
	_cleanup_strv_ char **exclude = stubs_in(img, upper);
	uint64_t tar_size = 0;
	int r = layer_pack_excluding(upper, (const char *const *)exclude, fd, diffid, &tar_size,
				     err);
	if (r < 0)
		return berth_error_wrap(err, "packing the container's changes");
	if (lseek(fd, 0, SEEK_SET) < 0)
		return berth_error_errno(err, "cannot rewind %s", tmp);
	char digest[IMAGE_DIGEST_BUF];
	if ((r = image_store_put_blob_fd(e->store, fd, diffid, (int64_t)tar_size, digest, err)) < 0)
		return r;
	*size = (int64_t)tar_size;
	return 0;
}

int ctr_commit(struct engine *e, const char *id, const struct ctr_commit_opts *o, char **image_id,
	       berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	_cleanup_image_info_ struct image_info info = { 0 };
	if ((r = image_store_info(e->store, row.image_id, &info, err)) < 0)
		return r;
	_cleanup_json_ json_t *man = read_json_blob(e, info.manifest_digest, err);
	_cleanup_json_ json_t *pcfg = man ? read_json_blob(e, row.image_id, err) : NULL;
	if (!pcfg)
		return -EIO;
	/* The changes first: a bad one costs no packing. */
	_cleanup_json_ json_t *cc =
		merged_config(row.config, json_object_get(pcfg, "config") ?: json_null());
	if ((r = image_config_apply_changes(cc, o->changes, err)) < 0)
		return r;

	bool running = json_is_true(json_object_get(row.state, "Running")) &&
		       !json_is_true(json_object_get(row.state, "Paused"));
	bool paused = false;
	if (o->pause && running) {
		if ((r = ctr_pause(e, id, true, err)) < 0)
			return berth_error_wrap(err, "pausing the container to commit it");
		paused = true;
	}
	struct image_view img;
	char diffid[IMAGE_DIGEST_BUF];
	int64_t lsize = 0;
	if ((r = image_view_open(e, row.image_id, &img, err)) == 0) {
		r = commit_layer(e, &img, id, diffid, &lsize, err);
		image_view_free(&img);
	}
	if (paused) {
		berth_err ignored = BERTH_ERR_INIT;
		ctr_pause(e, id, false, r < 0 ? &ignored : err);
		berth_err_clear(&ignored);
	}
	if (r < 0)
		return r;

	_cleanup_free_ char *created = engine_now_rfc3339();
	json_t *cfg = json_deep_copy(pcfg);
	_cleanup_json_ json_t *cfg_owned = cfg;
	json_object_set_new(cfg, "created", json_string(created));
	json_object_del(cfg, "author");
	json_object_del(cfg, "comment");
	json_object_del(cfg, "container_config");
	if (o->author && *o->author)
		json_object_set_new(cfg, "author", json_string(o->author));
	if (o->comment && *o->comment)
		json_object_set_new(cfg, "comment", json_string(o->comment));
	json_object_set_new(cfg, "container", json_string(id));
	json_object_set_new(cfg, "config", image_config_docker_order(cc));
	json_t *rootfs = json_object_get(cfg, "rootfs");
	if (!json_is_object(rootfs)) {
		rootfs = json_pack("{s:s, s:[]}", "type", "layers", "diff_ids");
		json_object_set_new(cfg, "rootfs", rootfs);
	}
	json_t *diff_ids = json_object_get(rootfs, "diff_ids");
	if (!json_is_array(diff_ids)) {
		diff_ids = json_array();
		json_object_set_new(rootfs, "diff_ids", diff_ids);
	}
	json_array_append_new(diff_ids, json_string(diffid));
	json_t *hist = json_object_get(cfg, "history");
	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(cfg, "history", hist);
	}
	_cleanup_free_ char *created_by = join_cmd(row.config);
	json_t *h = json_pack("{s:s}", "created", created);
	if (o->author && *o->author)
		json_object_set_new(h, "author", json_string(o->author));
	json_object_set_new(h, "created_by", json_string(created_by));
	if (o->comment && *o->comment)
		json_object_set_new(h, "comment", json_string(o->comment));
	json_array_append_new(hist, h);
	_cleanup_json_ json_t *sorted = json_object_sorted(cfg);
	_cleanup_free_ char *cbody = json_dumps(sorted, JSON_COMPACT);

	/* The manifest: the image's layers (unpacked already) and the new one,
	 * in the image's manifest flavour. */
	const char *mt = json_string_value(json_object_get(man, "mediaType"));
	bool docker = mt && !strcmp(mt, MT_DOCKER_MANIFEST);
	char cdigest[IMAGE_DIGEST_BUF], mdigest[IMAGE_DIGEST_BUF];
	digest_buffer(cbody, strlen(cbody), cdigest);
	json_t *layers = json_deep_copy(json_object_get(man, "layers"));
	if (!json_is_array(layers)) {
		json_decref(layers);
		layers = json_array();
	}
	json_array_append_new(
		layers,
		json_pack("{s:s, s:s, s:I}", "mediaType",
			  docker ? "application/vnd.docker.image.rootfs.diff.tar" : MT_OCI_LAYER,
			  "digest", diffid, "size", (json_int_t)lsize));
	_cleanup_json_ json_t *nman =
		json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:o}", "schemaVersion", 2, "mediaType",
			  docker ? MT_DOCKER_MANIFEST : MT_OCI_MANIFEST, "config", "mediaType",
			  docker ? MT_DOCKER_CONFIG : MT_OCI_CONFIG, "digest", cdigest, "size",
			  (json_int_t)strlen(cbody), "layers", layers);
	_cleanup_free_ char *mbody = json_dumps(nman, JSON_COMPACT);
	digest_buffer(mbody, strlen(mbody), mdigest);
	char *added[] = { diffid, cdigest, mdigest, NULL };
	if ((r = image_store_put_blob(e->store, cbody, strlen(cbody), cdigest, NULL, err)) == 0 &&
	    (r = image_store_put_blob(e->store, mbody, strlen(mbody), mdigest, NULL, err)) == 0) {
		const char *tags[] = { o->tag, NULL };
		struct image_add a = { .manifest_digest = mdigest, .tags = o->tag ? tags : NULL };
		r = image_store_add_image(e->store, &a, image_id, err);
	}
	if (r < 0) {
		image_store_discard_blobs(e->store, added);
		return berth_error_wrap(err, "commit");
	}
	return 0;
}
