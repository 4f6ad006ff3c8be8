/* pull.c - pull an image from a registry into the store, layers in parallel,
 * each unpacked while it downloads. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/xalloc.h"
#include "image/digest.h"
#include "image/pull.h"
#include "image/reference.h"
#include "image/store.h"

struct layer_job {
	const struct image_desc *desc;
	const char *chain, *parent, *diff_id;
	char short_id[13];
	bool present;
	int status;
	berth_err err;
};

struct puller {
	struct image_store *s;
	struct registry_client *c;
	const char *repo; /* path in the registry: "library/busybox" */
	const struct pull_opts *o;
	struct layer_job *jobs;
	size_t n_jobs;
	size_t next;        /* next job to take */
	bool abort;         /* a job failed: the others stop */
	pthread_mutex_t mu; /* next, abort, and one event at a time */
};

static void emit(struct puller *p, enum pull_event kind, const char *layer, const char *text,
		 uint64_t done, uint64_t total)
{
	if (!p->o->event)
		return;
	struct pull_event_info ev = { kind, layer, text, done, total };
	pthread_mutex_lock(&p->mu);
	p->o->event(p->o->opaque, &ev);
	pthread_mutex_unlock(&p->mu);
}

static bool aborted(struct puller *p)
{
	pthread_mutex_lock(&p->mu);
	bool a = p->abort;
	pthread_mutex_unlock(&p->mu);
	return a;
}

/* The download side of one layer: registry -> blob file and pipe. */
struct download {
	struct puller *p;
	struct layer_job *job;
	struct blob_writer *w;
	int pipe_w; /* closed when the download ends, so the unpacker sees EOF */
	uint64_t done;
	struct timespec last_event;
	int status;
	berth_err err;
};

static int download_sink(void *opaque, const void *buf, size_t n, berth_err *err)
{
	struct download *d = opaque;
	if (aborted(d->p))
		return berth_error_code(err, ECANCELED, "cancelled");
	int r = blob_writer_write(d->w, buf, n, err);
	if (r < 0)
		return r;
	if (d->pipe_w >= 0 && fd_write_all(d->pipe_w, buf, n) < 0) {
		/* The unpacker stopped reading: it has the error to report. */
		if (errno == EPIPE) {
			close(d->pipe_w);
			d->pipe_w = -1;
		} else {
			return berth_error_errno(err, "layer %s: feed the unpacker",
						 d->job->desc->digest);
		}
	}
	d->done += n;
	return 0;
}

static void download_progress(void *opaque, uint64_t done, uint64_t total)
{
	struct download *d = opaque;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long ms = (now.tv_sec - d->last_event.tv_sec) * 1000 +
		  (now.tv_nsec - d->last_event.tv_nsec) / 1000000;
	if (ms < 100 && done < total)
		return;
	d->last_event = now;
	emit(d->p, PULL_LAYER_PROGRESS, d->job->short_id, NULL, done, total);
}

static void *download_main(void *arg)
{
	struct download *d = arg;
	const struct image_desc *desc = d->job->desc;
	d->status = registry_get_blob(d->p->c, d->p->repo, desc->digest, desc->size, download_sink,
				      d, download_progress, d, &d->err);
	if (d->pipe_w >= 0) {
		close(d->pipe_w);
		d->pipe_w = -1;
	}
	if (d->status == 0) {
		emit(d->p, PULL_LAYER_VERIFY, d->job->short_id, NULL, 0, 0);
		d->status = blob_writer_commit(d->w, desc->digest, desc->size, NULL, &d->err);
		d->w = NULL;
		if (d->status == 0)
			emit(d->p, PULL_LAYER_DOWNLOADED, d->job->short_id, NULL, 0, 0);
	}
	return NULL;
}

static int pull_layer(struct puller *p, struct layer_job *job)
{
	_cleanup_close_ int lock = image_store_layer_lock(p->s, job->chain, &job->err);
	if (lock < 0)
		return lock;
	/* Another pull may have made it while we waited for the lock. */
	if (image_store_layer_present(p->s, job->chain)) {
		emit(p, PULL_LAYER_DONE, job->short_id, NULL, 0, 0);
		return 0;
	}
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return berth_error_errno(&job->err, "pipe");
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);
	struct download d = { .p = p, .job = job, .pipe_w = pfd[1] };
	int r = blob_writer_new(p->s, &d.w, &job->err);
	if (r < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	pthread_t th;
	if ((r = pthread_create(&th, NULL, download_main, &d)) != 0) {
		blob_writer_free(d.w);
		close(pfd[0]);
		close(pfd[1]);
		return berth_error(&job->err, r, "start a download thread");
	}
	berth_err uerr = BERTH_ERR_INIT;
	int ur = image_store_layer_unpack_locked(p->s, job->chain, job->parent, job->diff_id,
						 pfd[0], job->desc->digest, &uerr);
	if (ur < 0) {
		/* The pull fails: stop this download and the others. */
		pthread_mutex_lock(&p->mu);
		p->abort = true;
		pthread_mutex_unlock(&p->mu);
	}
	/* Drain whatever follows the tar's end, so the download completes. */
	char buf[65536];
	while (read(pfd[0], buf, sizeof(buf)) > 0)
		;
	close(pfd[0]);
	pthread_join(th, NULL);
	blob_writer_free(d.w);
	/* The download's error is the cause when both failed (a cut stream
	 * also breaks the tar). */
	if (d.status < 0 && !(ur < 0 && d.err.code == ECANCELED)) {
		berth_err_clear(&uerr);
		job->err = d.err;
		return d.status;
	}
	berth_err_clear(&d.err);
	if (ur < 0) {
		job->err = uerr;
		return ur;
	}
	emit(p, PULL_LAYER_DONE, job->short_id, NULL, 0, 0);
	return 0;
}

static void *worker_main(void *arg)
{
	struct puller *p = arg;
	for (;;) {
		pthread_mutex_lock(&p->mu);
		while (p->next < p->n_jobs && p->jobs[p->next].present)
			p->next++;
		struct layer_job *job =
			!p->abort && p->next < p->n_jobs ? &p->jobs[p->next++] : NULL;
		pthread_mutex_unlock(&p->mu);
		if (!job)
			return NULL;
		job->status = pull_layer(p, job);
		if (job->status < 0) {
			pthread_mutex_lock(&p->mu);
			p->abort = true;
			pthread_mutex_unlock(&p->mu);
		}
	}
}

/* Download the missing layers with o->parallel workers. */
static int pull_layers(struct puller *p, berth_err *err)
{
	size_t want = p->o->parallel ? p->o->parallel : 3;
	size_t missing = 0;
	for (size_t i = 0; i < p->n_jobs; i++)
		missing += !p->jobs[i].present;
	if (want > missing)
		want = missing;
	_cleanup_free_ pthread_t *th = xcalloc(want + 1, sizeof(pthread_t));
	size_t started = 0;
	for (; started < want; started++)
		if (pthread_create(&th[started], NULL, worker_main, p) != 0)
			break;
	if (started == 0 && missing)
		worker_main(p);
	for (size_t i = 0; i < started; i++)
		pthread_join(th[i], NULL);
	/* The first failure in layer order is the one reported. */
	for (size_t i = 0; i < p->n_jobs; i++) {
		if (p->jobs[i].status < 0 && p->jobs[i].err.code != ECANCELED) {
			berth_err_clear(err);
			*err = p->jobs[i].err;
			p->jobs[i].err = (berth_err)BERTH_ERR_INIT;
			return p->jobs[i].status;
		}
	}
	for (size_t i = 0; i < p->n_jobs; i++)
		if (p->jobs[i].status < 0) {
			*err = p->jobs[i].err;
			p->jobs[i].err = (berth_err)BERTH_ERR_INIT;
			return p->jobs[i].status;
		}
	return 0;
}

/* Fetch a small JSON blob (config) into the store unless it is there. */
static int fetch_small_blob(struct puller *p, const struct image_desc *d, berth_err *err)
{
	if (image_store_has_blob(p->s, d->digest))
		return 0;
	if (d->size < 0 || (uint64_t)d->size > MANIFEST_MAX_SIZE)
		return berth_error_code(err, EFBIG, "config %s: %lld bytes is too large", d->digest,
					(long long)d->size);
	struct blob_writer *w;
	int r = blob_writer_new(p->s, &w, err);
	if (r < 0)
		return r;
	struct download dl = { .p = p, .w = w, .pipe_w = -1 };
	struct layer_job job = { .desc = d };
	dl.job = &job;
	r = registry_get_blob(p->c, p->repo, d->digest, d->size, download_sink, &dl, NULL, NULL,
			      err);
	if (r < 0) {
		blob_writer_free(w);
		return r;
	}
	return blob_writer_commit(w, d->digest, d->size, NULL, err);
}

/* A manifest or index by tag or digest. HEAD first: when the store already
 * has the document the registry names, it is read from the store, so a
 * repeated pull costs one small request. */
static int fetch_manifest(struct puller *p, const char *ref, char **body, size_t *len,
			  char **ctype, char **digest, berth_err *err)
{
	_cleanup_free_ char *known = NULL;
	if (digest_hex(ref)) {
		known = xstrdup(ref);
	} else {
		_cleanup_free_ char *head_type = NULL;
		int r = registry_head_manifest(p->c, p->repo, ref, &head_type, &known, err);
		if (r < 0)
			return r;
	}
	if (known && image_store_has_blob(p->s, known) &&
	    image_store_read_blob(p->s, known, MANIFEST_MAX_SIZE, body, len, err) == 0) {
		*ctype = NULL; /* the stored document's mediaType field decides */
		*digest = TAKE_PTR(known);
		return 0;
	}
	berth_err_clear(err);
	return registry_get_manifest(p->c, p->repo, ref, body, len, ctype, digest, err);
}

int image_pull(struct image_store *s, const char *name, const struct pull_opts *o,
	       struct pull_result *res, berth_err *err)
{
	memset(res, 0, sizeof(*res));
	_cleanup_ref_ struct image_ref ref = { 0 };
	int r = image_ref_parse(name, &ref, err);
	if (r < 0)
		return r;
	_cleanup_registry_client_ struct registry_client *c = NULL;
	if ((r = registry_client_new(ref.domain, &o->registry, &c, err)) < 0)
		return r;
	struct puller p = { .s = s, .c = c, .repo = ref.path, .o = o };
	pthread_mutex_init(&p.mu, NULL);

	const char *want = ref.digest ? ref.digest : ref.tag;
	_cleanup_free_ char *body = NULL, *ctype = NULL, *digest = NULL;
	size_t len = 0;
	if ((r = fetch_manifest(&p, want, &body, &len, &ctype, &digest, err)) < 0)
		return r;
	_cleanup_free_ char *resolved = xasprintf("%s: Pulling from %s", want, ref.path);
	emit(&p, PULL_RESOLVED, NULL, resolved, 0, 0);
	enum manifest_kind kind = manifest_kind(body, len, ctype, err);
	if (kind == MANIFEST_UNKNOWN)
		return berth_error_wrap(err, "%s", name);
	_cleanup_free_ char *index_digest = NULL;
	if (kind == MANIFEST_INDEX) {
		_cleanup_index_ struct image_index idx = { 0 };
		if ((r = index_parse(body, len, &idx, err)) < 0)
			return berth_error_wrap(err, "%s", name);
		struct image_platform host = { 0 };
		const struct image_platform *plat = o->platform;
		if (!plat) {
			platform_default(&host);
			plat = &host;
		}
		int i = index_select(&idx, plat, err);
		if (!o->platform)
			platform_free(&host);
		if (i < 0)
			return berth_error_wrap(err, "%s", name);
		if ((r = image_store_put_blob(s, body, len, digest, NULL, err)) < 0)
			return r;
		index_digest = TAKE_PTR(digest);
		free(body);
		free(ctype);
		body = ctype = NULL;
		if ((r = fetch_manifest(&p, idx.manifests[i].digest, &body, &len, &ctype, &digest,
					err)) < 0)
			return r;
	}
	if ((r = image_store_put_blob(s, body, len, digest, NULL, err)) < 0)
		return r;
	_cleanup_manifest_ struct image_manifest m = { 0 };
	if ((r = manifest_parse(body, len, &m, err)) < 0)
		return berth_error_wrap(err, "%s", name);
	if ((r = fetch_small_blob(&p, &m.config, err)) < 0)
		return r;
	_cleanup_free_ char *cbody = NULL;
	size_t clen;
	if ((r = image_store_read_blob(s, m.config.digest, MANIFEST_MAX_SIZE, &cbody, &clen, err)) <
	    0)
		return r;
	_cleanup_config_ struct image_config cfg = { 0 };
	if ((r = config_parse(cbody, clen, &cfg, err)) < 0)
		return berth_error_wrap(err, "%s: config %s", name, m.config.digest);
	if (cfg.n_diff_ids != m.n_layers)
		return berth_error_code(err, EBADMSG,
					"%s: manifest lists %zu layers, config has %zu", name,
					m.n_layers, cfg.n_diff_ids);
	_cleanup_strv_ char **chains = layer_chain_ids(cfg.diff_ids, cfg.n_diff_ids);
	_cleanup_free_ struct layer_job *jobs = xcalloc(m.n_layers + 1, sizeof(*jobs));
	size_t missing = 0;
	for (size_t i = 0; i < m.n_layers; i++) {
		struct layer_job *j = &jobs[i];
		j->desc = &m.layers[i];
		j->chain = chains[i];
		j->parent = i ? chains[i - 1] : NULL;
		j->diff_id = cfg.diff_ids[i];
		const char *hex = digest_hex(j->desc->digest);
		snprintf(j->short_id, sizeof(j->short_id), "%.12s", hex ? hex : "");
		j->present = image_store_layer_present(s, j->chain);
		missing += !j->present;
		emit(&p, j->present ? PULL_LAYER_EXISTS : PULL_LAYER_WAITING, j->short_id, NULL, 0,
		     0);
	}
	p.jobs = jobs;
	p.n_jobs = m.n_layers;
	r = missing ? pull_layers(&p, err) : 0;
	for (size_t i = 0; i < m.n_layers; i++)
		berth_err_clear(&jobs[i].err);
	pthread_mutex_destroy(&p.mu);
	if (r < 0)
		return r;

	_cleanup_free_ char *repo = image_ref_repo(&ref);
	_cleanup_free_ char *tag = ref.tag && !ref.digest ? image_ref_string(&ref) : NULL;
	const char *tags[] = { tag, NULL };
	struct image_add a = { .manifest_digest = digest,
			       .index_digest = index_digest,
			       .repo = repo,
			       .tags = tag ? tags : NULL };
	if ((r = image_store_add_image(s, &a, &res->image_id, err)) < 0)
		return r;
	res->digest = xstrdup(index_digest ? index_digest : digest);
	res->downloaded = missing > 0;
	emit(&p, PULL_DIGEST, NULL, res->digest, 0, 0);
	return 0;
}

void pull_result_free(struct pull_result *r)
{
	free(r->image_id);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}
