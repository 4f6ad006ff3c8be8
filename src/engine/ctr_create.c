/* ctr_create.c - recording a new container: its id, its name, its mounts.
 *
 * Nothing is made on disk here but named and anonymous volumes: the
 * container's own directories are made by its first start (ctr_start.c),
 * so a create killed at any point leaves either no row or a complete one. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/mounts.h"
#include "engine/spec_gen.h"
#include "engine/volume.h"
#include "image/db.h"
#include "image/store.h"

/* Names for containers created without --name: a quality and a sea word. */
static const char *const name_left[] = {
	"amber",  "bold",  "brave",  "bright", "calm",   "clever", "cosy",  "crisp",
	"daring", "eager", "fair",   "fancy",  "gentle", "glad",   "grand", "happy",
	"hardy",  "jolly", "keen",   "kind",   "lively", "lucid",  "merry", "mighty",
	"nimble", "noble", "proud",  "quick",  "quiet",  "rapid",  "sharp", "shiny",
	"silent", "sleek", "smooth", "snug",   "steady", "stoic",  "swift", "tidy",
	"trusty", "vivid", "warm",   "wise",   "witty",  "zesty",
};
static const char *const name_right[] = {
	"anchor", "atoll",      "beacon", "bollard",  "bow",     "breaker", "buoy",    "capstan",
	"cove",   "current",    "delta",  "dinghy",   "dock",    "estuary", "fathom",  "ferry",
	"fjord",  "galley",     "gull",   "harbour",  "hull",    "inlet",   "jetty",   "keel",
	"lagoon", "lighthouse", "mast",   "mooring",  "narrows", "oar",     "pier",    "quay",
	"reef",   "rudder",     "sail",   "schooner", "shoal",   "skiff",   "slipway", "sound",
	"stern",  "tide",       "wake",   "wharf",    "yawl",
};

static void random_hex(char *out, size_t bytes)
{
	unsigned char b[64];
	size_t got = 0;
	while (got < bytes) {
		ssize_t n = getrandom(b + got, bytes - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	for (size_t i = 0; i < bytes; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static char *generated_name(void)
{
	unsigned r[2];
	while (getrandom(r, sizeof(r), 0) != sizeof(r))
		;
	return xasprintf("%s_%s", name_left[r[0] % ARRAY_SIZE(name_left)],
			 name_right[r[1] % ARRAY_SIZE(name_right)]);
}

static bool name_valid(const char *n)
{
	static const char alnum[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	return n[0] && strchr(alnum, n[0]) &&
	       strspn(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
		       strlen(n);
}

static int insert_row(struct engine *e, const struct ctr_create_req *r, json_t *image_config,
		      const char *id, const char *name, json_t *mounts, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "INSERT INTO containers (id, name, image_id, image, created, config, "
		       "host_config,"
		       " networking, mounts, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		       &st, err) < 0)
		return -EIO;
	_cleanup_free_ char *created = engine_now_rfc3339();
	/* Docker records the image's health check and command, merged, in the
	 * container's Config ... */
	_cleanup_json_ json_t *config = json_deep_copy(r->config);
	json_t *health = health_effective(json_object_get(r->config, "Healthcheck"),
					  json_object_get(image_config, "Healthcheck"));
	if (health)
		json_object_set_new(config, "Healthcheck", health);
	spec_merge_command(config, image_config);
	/* ... and the image's exposed ports with the container's own. */
	json_t *img_ports = json_object_get(image_config, "ExposedPorts");
	if (json_object_size(img_ports) > 0) {
		json_t *ports = json_object_get(config, "ExposedPorts");
		if (!json_is_object(ports)) {
			ports = json_object();
			json_object_set_new(config, "ExposedPorts", ports);
		}
		const char *k;
		json_t *v;
		json_object_foreach (img_ports, k, v)
			if (!json_object_get(ports, k))
				json_object_set_new(ports, k, json_object());
	}
	_cleanup_free_ char *cfg = json_dumps(config, JSON_COMPACT);
	_cleanup_free_ char *hc = json_dumps(r->host_config, JSON_COMPACT);
	_cleanup_free_ char *net = r->networking ? json_dumps(r->networking, JSON_COMPACT) : NULL;
	_cleanup_free_ char *mnt = json_dumps(mounts, JSON_COMPACT);
	_cleanup_json_ json_t *state =
		json_pack("{s:s,s:b,s:b,s:b,s:b,s:b,s:i,s:i,s:s,s:s,s:s}", "Status", "created",
			  "Running", 0, "Paused", 0, "Restarting", 0, "OOMKilled", 0, "Dead", 0,
			  "Pid", 0, "ExitCode", 0, "Error", "", "StartedAt", "0001-01-01T00:00:00Z",
			  "FinishedAt", "0001-01-01T00:00:00Z");
	_cleanup_free_ char *stj = json_dumps(state, JSON_COMPACT);
	const char *vals[] = { id, name, r->image_id, r->image, created, cfg, hc, net, mnt, stj };
	for (int i = 0; i < (int)ARRAY_SIZE(vals); i++)
		sqlite3_bind_text(st, i + 1, vals[i], -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if ((rc & 0xff) == SQLITE_CONSTRAINT)
		return -EEXIST;
	if (rc != SQLITE_DONE)
		return db_fail(e->db, err, "recording the container");
	return 0;
}

static json_t *image_config_of(struct engine *e, const char *image_id, berth_err *err)
{
	_cleanup_free_ char *blob = NULL;
	size_t len;
	if (image_store_read_blob(e->store, image_id, 4 << 20, &blob, &len, err) < 0)
		return NULL;
	json_error_t je;
	json_t *c = json_loadb(blob, len, 0, &je);
	if (!c) {
		berth_error_code(err, EINVAL, "image %s: its config is not JSON: %s", image_id,
				 je.text);
		return NULL;
	}
	return c;
}

json_t *engine_image_config(struct engine *e, const char *image_id, berth_err *err)
{
	_cleanup_json_ json_t *c = image_config_of(e, image_id, err);
	if (!c)
		return NULL;
	json_t *cfg = json_object_get(c, "config");
	return json_incref(json_is_object(cfg) ? cfg : json_object());
}

int ctr_create(struct engine *e, const struct ctr_create_req *req, char **out_id, berth_err *err)
{
	int rc;
	/* The networks named must exist: their ids go into NetworkingConfig. */
	_cleanup_json_ json_t *networking =
		req->networking ? json_deep_copy(req->networking) : json_object();
	if ((rc = ctr_net_resolve(e, req->host_config, networking, err)) < 0)
		return rc;
	struct ctr_create_req resolved = *req;
	resolved.networking = networking;
	const struct ctr_create_req *r = &resolved;
	if (r->name && !name_valid(r->name[0] == '/' ? r->name + 1 : r->name))
		return berth_error_code(
			err, EINVAL,
			"Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed",
			r->name);
	if ((rc = mounts_validate(r->config, r->host_config, err)) < 0)
		return rc;
	_cleanup_json_ json_t *image_config = engine_image_config(e, r->image_id, err);
	if (!image_config)
		return -EINVAL;
	char id[65];
	random_hex(id, 32);

	/* --volumes-from: the mounts of each named container. */
	json_t *vf = json_object_get(r->host_config, "VolumesFrom");
	size_t nvf = json_array_size(vf);
	json_t **from = xcalloc(nvf + 1, sizeof(json_t *));
	rc = 0;
	for (size_t i = 0; i < nvf && rc == 0; i++) {
		const char *spec = json_string_value(json_array_get(vf, i));
		_cleanup_free_ char *cname =
			xstrndup(spec ? spec : "", strcspn(spec ? spec : "", ":"));
		_cleanup_free_ char *cid = NULL;
		_cleanup_ctr_row_ struct ctr_row other = { 0 };
		if ((rc = ctr_resolve(e, cname, &cid, err)) < 0 ||
		    (rc = ctr_row_load(e, cid, &other, err)) < 0)
			break;
		from[i] = json_incref(other.mounts);
	}
	json_t *mounts = NULL;
	struct volume_store *vol = rc == 0 ? engine_volumes(e, err) : NULL;
	if (rc == 0 && !vol)
		rc = -EIO;
	if (rc == 0)
		rc = mounts_resolve(r->config, r->host_config, image_config, from, vol, id, &mounts,
				    err);
	for (size_t i = 0; i < nvf; i++)
		json_decref(from[i]);
	free(from);
	if (rc < 0)
		return rc;
	_cleanup_json_ json_t *mounts_owned = mounts;

	_cleanup_free_ char *name =
		r->name ? xstrdup(r->name[0] == '/' ? r->name + 1 : r->name) : NULL;
	for (int attempt = 0;; attempt++) {
		_cleanup_free_ char *gen = NULL;
		if (!name)
			gen = attempt < 10 ? generated_name() : xasprintf("berth_%.12s", id);
		rc = insert_row(e, r, image_config, id, name ? name : gen, mounts, err);
		if (rc != -EEXIST)
			break;
		if (name) {
			_cleanup_free_ char *owner = NULL;
			ctr_resolve(e, name, &owner, NULL);
			return berth_error_code(err, EEXIST,
						"Conflict. The container name \"/%s\" is already "
						"in use by container \"%s\". "
						"You have to remove (or rename) that container to "
						"be able to reuse that name.",
						name, owner ? owner : "?");
		}
	}
	if (rc < 0)
		return rc;
	/* Record which volumes it uses, so they are not removed under it. */
	_cleanup_strv_ char **names = NULL;
	size_t i;
	json_t *m;
	size_t k = 0;
	json_array_foreach (mounts, i, m) {
		const char *vn = json_string_value(json_object_get(m, "Name"));
		if (vn && !strcmp(json_string_value(json_object_get(m, "Type")) ?: "", "volume")) {
			names = xrealloc(names, (k + 2) * sizeof(char *));
			names[k++] = xstrdup(vn);
			names[k] = NULL;
		}
	}
	if (names && (rc = volume_set_users(vol, id, (const char *const *)names, err)) < 0)
		return rc;
	*out_id = xstrdup(id);
	return 0;
}
