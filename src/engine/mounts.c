/* mounts.c - a container's volumes and mounts, as Docker resolves them (see mounts.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/mounts.h"
#include "engine/volume.h"

/* One mount point while it is resolved. */
struct mp {
	const char *type; /* "bind", "volume", "tmpfs" (static strings) */
	char *name;       /* volume name; NULL: anonymous */
	char *source;     /* bind: host path */
	char *dest;       /* cleaned */
	char *mode;       /* as docker shows it */
	bool rw;
	const char *propagation;
	bool nocopy;
	bool create_source; /* -v makes a missing bind source */
	json_t *labels;     /* volume labels from --mount */
	json_t *options;    /* volume driver options from --mount */
	json_t *tmpfs;      /* TmpfsOptions */
	json_t *copied;     /* from VolumesFrom: the entry as it is */
};

struct mp_list {
	struct mp *v;
	size_t n;
};

static void mp_release(struct mp *m)
{
	free(m->name);
	free(m->source);
	free(m->dest);
	free(m->mode);
	json_decref(m->labels);
	json_decref(m->options);
	json_decref(m->tmpfs);
	json_decref(m->copied);
	memset(m, 0, sizeof(*m));
}

static void mp_list_release(struct mp_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		mp_release(&l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static struct mp *mp_add(struct mp_list *l)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	struct mp *m = &l->v[l->n++];
	memset(m, 0, sizeof(*m));
	m->rw = true;
	m->propagation = "";
	return m;
}

static struct mp *mp_find(struct mp_list *l, const char *dest)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].dest, dest) == 0)
			return &l->v[i];
	return NULL;
}

static const char *const propagations[] = { "shared",  "slave",  "private",
					    "rshared", "rslave", "rprivate" };

static bool is_propagation(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
		if (strcmp(s, propagations[i]) == 0)
			return true;
	return false;
}

/* The mode of -v: a comma list with at most one of each kind. */
struct mode {
	bool ro, nocopy;
	const char *propagation;
};

static bool parse_mode(const char *mode, struct mode *out)
{
	memset(out, 0, sizeof(*out));
	if (!mode[0])
		return true;
	_cleanup_free_ char *copy = xstrdup(mode);
	int rw = 0, label = 0, prop = 0, copymode = 0, consistency = 0;
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (strcmp(tok, "ro") == 0 || strcmp(tok, "rw") == 0) {
			rw++;
			out->ro = tok[1] == 'o';
		} else if (strcmp(tok, "z") == 0 || strcmp(tok, "Z") == 0) {
			label++;
		} else if (is_propagation(tok)) {
			prop++;
			for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
				if (strcmp(tok, propagations[i]) == 0)
					out->propagation = propagations[i];
		} else if (strcmp(tok, "nocopy") == 0) {
			copymode++;
			out->nocopy = true;
		} else if (strcmp(tok, "consistent") == 0 || strcmp(tok, "cached") == 0 ||
			   strcmp(tok, "delegated") == 0) {
			consistency++;
		} else {
			return false;
		}
	}
	/* "a,,b" or a trailing comma leaves an empty token strtok skips */
	if (strstr(mode, ",,") || mode[0] == ',' || mode[strlen(mode) - 1] == ',')
		return false;
	return rw <= 1 && label <= 1 && prop <= 1 && copymode <= 1 && consistency <= 1;
}

static int bad_config(berth_err *err, const char *type, const char *fmt, const char *arg)
{
	_cleanup_free_ char *why = xasprintf(fmt, arg);
	return berth_error_code(err, EINVAL, "invalid mount config for type \"%s\": %s", type, why);
}

/* Destination checks shared by every kind; sets m->dest. */
static int check_dest(struct mp *m, const char *target, berth_err *err)
{
	if (!target || !target[0])
		return bad_config(err, m->type, "field %s must not be empty", "Target");
	if (target[0] != '/')
		return bad_config(err, m->type,
				  "invalid mount path: '%s' mount path must be absolute", target);
	m->dest = path_clean(target);
	if (strcmp(m->dest, "/") == 0)
		return bad_config(err, m->type, "invalid specification: destination can't be '%s'",
				  "/");
	return 0;
}

/* -v SRC:DST[:OPTS], DST alone for an anonymous volume. */
static int parse_bind(const char *raw, struct mp *m, berth_err *err)
{
	_cleanup_free_ char *copy = xstrdup(raw);
	char *parts[4] = { NULL };
	size_t n = 0;
	char *p = copy;
	while (n < 4) {
		parts[n++] = p;
		char *colon = strchr(p, ':');
		if (!colon)
			break;
		*colon = '\0';
		p = colon + 1;
	}
	if (!raw[0] || !parts[0][0] || n > 3)
		return berth_error_code(err, EINVAL, "invalid volume specification: '%s'", raw);
	const char *source = NULL, *target = NULL, *mode = "";
	struct mode md;
	if (n == 1) {
		target = parts[0];
	} else if (n == 2) {
		/* "/foo:rw" is a destination with a mode, not a volume */
		if (parse_mode(parts[1], &md) && parts[1][0])
			return berth_error_code(err, EINVAL, "invalid volume specification: '%s'",
						raw);
		source = parts[0];
		target = parts[1];
	} else {
		source = parts[0];
		target = parts[1];
		mode = parts[2];
	}
	if (!parse_mode(mode, &md))
		return berth_error_code(err, EINVAL, "invalid mode: %s", mode);
	m->type = source && source[0] == '/' ? "bind" : "volume";
	m->mode = xstrdup(mode);
	m->rw = !md.ro;
	m->nocopy = md.nocopy;
	int r = check_dest(m, target, err);
	if (r == 0 && strcmp(m->type, "bind") == 0) {
		if (md.nocopy)
			r = bad_config(err, m->type, "field %s must not be specified",
				       "VolumeOptions");
		m->source = path_clean(source);
		m->propagation = md.propagation ? md.propagation : "rprivate";
		m->create_source = true;
	} else if (r == 0) {
		if (md.propagation)
			r = bad_config(err, m->type, "field %s must not be specified",
				       "BindOptions");
		else if (source && (r = volume_check_name(source, err)) == 0)
			m->name = xstrdup(source);
		if (!m->mode[0]) {
			free(m->mode);
			m->mode = xstrdup("z");
		}
	}
	if (r < 0)
		return berth_error_wrap(err, "invalid volume specification: '%s'", raw);
	return 0;
}

static const char *str_field(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* One of HostConfig.Mounts, the API's form of --mount. */
static int parse_mount(json_t *o, struct mp *m, berth_err *err)
{
	const char *type = str_field(o, "Type");
	const char *source = str_field(o, "Source");
	const char *target = str_field(o, "Target");
	json_t *bind = json_object_get(o, "BindOptions");
	json_t *volume = json_object_get(o, "VolumeOptions");
	json_t *tmpfs = json_object_get(o, "TmpfsOptions");
	if (!type || !type[0])
		return berth_error_code(err, EINVAL,
					"invalid mount config: field Type must not "
					"be empty");
	if (strcmp(type, "bind") == 0)
		m->type = "bind";
	else if (strcmp(type, "volume") == 0)
		m->type = "volume";
	else if (strcmp(type, "tmpfs") == 0)
		m->type = "tmpfs";
	else
		return bad_config(err, type, "mount type %s", "unknown");
	m->rw = !json_is_true(json_object_get(o, "ReadOnly"));
	m->mode = xstrdup("");
	int r = check_dest(m, target, err);
	if (r < 0)
		return r;
	bool is_bind = strcmp(m->type, "bind") == 0, is_vol = strcmp(m->type, "volume") == 0;
	if (!is_bind && json_is_object(bind))
		return bad_config(err, m->type, "field %s must not be specified", "BindOptions");
	if (!is_vol && json_is_object(volume))
		return bad_config(err, m->type, "field %s must not be specified", "VolumeOptions");
	if (strcmp(m->type, "tmpfs") != 0 && json_is_object(tmpfs))
		return bad_config(err, m->type, "field %s must not be specified", "TmpfsOptions");
	if (is_bind) {
		if (!source || !source[0])
			return bad_config(err, m->type, "field %s must not be empty", "Source");
		if (source[0] != '/')
			return bad_config(err, m->type,
					  "invalid mount path: '%s' mount path must be absolute",
					  source);
		const char *prop = str_field(bind, "Propagation");
		if (prop && prop[0] && !is_propagation(prop))
			return bad_config(err, m->type, "invalid propagation mode: %s", prop);
		m->propagation = prop && prop[0] ? prop : "rprivate";
		for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
			if (strcmp(m->propagation, propagations[i]) == 0)
				m->propagation = propagations[i];
		m->source = path_clean(source);
		m->create_source = json_is_true(json_object_get(bind, "CreateMountpoint"));
		struct stat sb;
		if (!m->create_source && stat(m->source, &sb) < 0)
			return bad_config(err, m->type, "bind source path does not exist: %s",
					  m->source);
	} else if (is_vol) {
		if (source && source[0]) {
			if ((r = volume_check_name(source, err)) < 0)
				return r;
			m->name = xstrdup(source);
		}
		m->nocopy = json_is_true(json_object_get(volume, "NoCopy"));
		free(m->mode);
		m->mode = xstrdup(m->nocopy ? "nocopy" : "z");
		json_t *labels = json_object_get(volume, "Labels");
		if (json_is_object(labels))
			m->labels = json_incref(labels);
		json_t *dc = json_object_get(volume, "DriverConfig");
		const char *driver = str_field(dc, "Name");
		if (driver && driver[0] && strcmp(driver, "local") != 0)
			return berth_error_code(err, ENOENT,
						"create %s: plugin \"%s\" not found: berth has "
						"only the local volume driver",
						source && source[0] ? source : "volume", driver);
		json_t *opts = json_object_get(dc, "Options");
		if (json_is_object(opts) && json_object_size(opts))
			m->options = json_incref(opts);
	} else {
		if (source && source[0])
			return bad_config(err, m->type, "field %s must not be specified", "Source");
		m->tmpfs = json_object();
		json_t *size = json_object_get(tmpfs, "SizeBytes");
		json_t *mode = json_object_get(tmpfs, "Mode");
		if (json_is_integer(size)) {
			if (json_integer_value(size) < 0)
				return bad_config(err, m->type, "invalid tmpfs size: %s",
						  "negative");
			json_object_set(m->tmpfs, "SizeBytes", size);
		}
		if (json_is_integer(mode))
			json_object_set(m->tmpfs, "Mode", mode);
	}
	return 0;
}

/* A size as tmpfs takes it: a number with an optional k, m or g. */
static bool tmpfs_size_ok(const char *s)
{
	char *end = NULL;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || s[0] == '-')
		return false;
	(void)v;
	if (*end && strchr("kKmMgG%", *end))
		end++;
	return *end == '\0';
}

/* One HostConfig.Tmpfs entry: "DST": "size=64m,mode=1777,noexec". */
static int parse_tmpfs(const char *dest, const char *opts, struct mp *m, berth_err *err)
{
	m->type = "tmpfs";
	m->mode = xstrdup("");
	int r = check_dest(m, dest, err);
	if (r < 0)
		return r;
	m->tmpfs = json_object();
	json_t *list = json_array();
	json_object_set_new(m->tmpfs, "Options", list);
	_cleanup_free_ char *copy = xstrdup(opts ? opts : "");
	char *save = NULL;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(tok, '=');
		if (eq && strncmp(tok, "size=", 5) == 0 && !tmpfs_size_ok(eq + 1))
			return berth_error_code(err, EINVAL, "invalid tmpfs option \"%s\" for %s",
						tok, dest);
		if (eq && strncmp(tok, "mode=", 5) == 0) {
			char *end = NULL;
			unsigned long mode = strtoul(eq + 1, &end, 8);
			if (!eq[1] || *end || mode > 07777)
				return berth_error_code(err, EINVAL,
							"invalid tmpfs option \"%s\" for %s", tok,
							dest);
		}
		if (strcmp(tok, "ro") == 0)
			m->rw = false;
		json_t *o = json_array();
		if (eq) {
			json_array_append_new(o, json_stringn(tok, (size_t)(eq - tok)));
			json_array_append_new(o, json_string(eq + 1));
		} else {
			json_array_append_new(o, json_string(tok));
		}
		json_array_append_new(list, o);
	}
	return 0;
}

static int parse_volumes_from(const char *entry, char **ctr, bool *ro, berth_err *err)
{
	const char *colon = strchr(entry, ':');
	*ro = false;
	if (colon) {
		const char *mode = colon + 1;
		if (strcmp(mode, "ro") != 0 && strcmp(mode, "rw") != 0)
			return berth_error_code(err, EINVAL, "invalid mode: %s", mode);
		*ro = mode[1] == 'o';
	}
	size_t n = colon ? (size_t)(colon - entry) : strlen(entry);
	if (n == 0)
		return berth_error_code(err, EINVAL, "invalid volumes-from: '%s'", entry);
	*ctr = xstrndup(entry, n);
	return 0;
}

/* Binds, Mounts and Tmpfs into l, in that order; a destination twice is an error. */
static int parse_all(json_t *host_config, struct mp_list *l, berth_err *err)
{
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(host_config, "Binds"), i, e) {
		const char *raw = json_string_value(e);
		if (!raw)
			return berth_error_code(err, EINVAL,
						"invalid volume specification: "
						"not a string");
		struct mp *m = mp_add(l);
		int r = parse_bind(raw, m, err);
		if (r < 0)
			return r;
		if (mp_find(l, m->dest) != m)
			return berth_error_code(err, EINVAL, "Duplicate mount point: %s", m->dest);
	}
	json_array_foreach (json_object_get(host_config, "Mounts"), i, e) {
		struct mp *m = mp_add(l);
		int r = parse_mount(e, m, err);
		if (r < 0)
			return r;
		if (mp_find(l, m->dest) != m)
			return berth_error_code(err, EINVAL, "Duplicate mount point: %s", m->dest);
	}
	const char *dest;
	json_t *opts;
	json_object_foreach (json_object_get(host_config, "Tmpfs"), dest, opts) {
		struct mp *m = mp_add(l);
		int r = parse_tmpfs(dest, json_string_value(opts), m, err);
		if (r < 0)
			return r;
		if (mp_find(l, m->dest) != m)
			return berth_error_code(err, EINVAL, "Duplicate mount point: %s", m->dest);
	}
	json_array_foreach (json_object_get(host_config, "VolumesFrom"), i, e) {
		_cleanup_free_ char *ctr = NULL;
		bool ro;
		const char *s = json_string_value(e);
		int r = s ? parse_volumes_from(s, &ctr, &ro, err)
			  : berth_error_code(err, EINVAL, "invalid volumes-from: not a string");
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_volumes_object(json_t *vols, berth_err *err)
{
	const char *dest;
	json_t *unused;
	json_object_foreach (vols, dest, unused) {
		struct mp m = { .type = "volume" };
		int r = check_dest(&m, dest, err);
		mp_release(&m);
		if (r < 0)
			return r;
	}
	return 0;
}

int mounts_validate(json_t *config, json_t *host_config, berth_err *err)
{
	__attribute__((cleanup(mp_list_release))) struct mp_list l = { 0 };
	int r = parse_all(host_config, &l, err);
	if (r < 0)
		return r;
	return check_volumes_object(json_object_get(config, "Volumes"), err);
}

static size_t depth(const char *path)
{
	size_t n = 0;
	for (const char *p = path; *p; p++)
		if (*p == '/')
			n++;
	return strcmp(path, "/") == 0 ? 0 : n;
}

static json_t *mp_json(const struct mp *m)
{
	if (m->copied)
		return json_incref(m->copied);
	json_t *o = json_object();
	json_object_set_new(o, "Type", json_string(m->type));
	if (strcmp(m->type, "volume") == 0)
		json_object_set_new(o, "Name", json_string(m->name));
	json_object_set_new(o, "Source", json_string(m->source ? m->source : ""));
	json_object_set_new(o, "Destination", json_string(m->dest));
	if (strcmp(m->type, "volume") == 0)
		json_object_set_new(o, "Driver", json_string("local"));
	json_object_set_new(o, "Mode", json_string(m->mode ? m->mode : ""));
	json_object_set_new(o, "RW", json_boolean(m->rw));
	json_object_set_new(o, "Propagation", json_string(m->propagation));
	if (m->tmpfs)
		json_object_set(o, "TmpfsOptions", m->tmpfs);
	return o;
}

/* Anonymous volumes made by this call are removed again when it fails
 * (the container was recorded as their user when they were made). */
static void drop_made(struct volume_store *vol, const char *container_id, char **made)
{
	berth_err ignored = BERTH_ERR_INIT;
	if (container_id)
		volume_set_users(vol, container_id, NULL, &ignored);
	berth_err_clear(&ignored);
	for (size_t i = 0; made && made[i]; i++) {
		volume_remove(vol, made[i], true, &ignored);
		berth_err_clear(&ignored);
	}
}

static void strv_append(char ***v, size_t *n, const char *s)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = xstrdup(s);
	(*v)[*n] = NULL;
}

static int make_volumes(struct mp_list *l, struct volume_store *vol, const char *container_id,
			char ***made, berth_err *err)
{
	size_t n_made = 0;
	for (size_t i = 0; i < l->n; i++) {
		struct mp *m = &l->v[i];
		if (m->copied || strcmp(m->type, "volume") != 0)
			continue;
		_cleanup_free_ char *mountpoint = NULL, *name = NULL;
		int r = volume_create_used(vol, m->name, m->labels, m->options, container_id,
					   &mountpoint, &name, err);
		if (r < 0)
			return r;
		if (!m->name)
			strv_append(made, &n_made, name);
		free(m->name);
		m->name = TAKE_PTR(name);
		free(m->source);
		m->source = TAKE_PTR(mountpoint);
	}
	return 0;
}

static int make_bind_sources(struct mp_list *l, berth_err *err)
{
	for (size_t i = 0; i < l->n; i++) {
		struct mp *m = &l->v[i];
		if (m->copied || !m->create_source)
			continue;
		_cleanup_free_ char *p = xstrdup(m->source);
		for (char *s = p + 1;; s++) {
			bool end = *s == '\0';
			if (*s == '/' || end) {
				*s = '\0';
				if (mkdir(p, 0755) < 0 && errno != EEXIST)
					return berth_error_errno(err, "create bind source %s", p);
				if (end)
					break;
				*s = '/';
			}
		}
	}
	return 0;
}

int mounts_resolve(json_t *config, json_t *host_config, json_t *image_config,
		   json_t *const *volumes_from, struct volume_store *vol, const char *container_id,
		   json_t **mounts, berth_err *err)
{
	__attribute__((cleanup(mp_list_release))) struct mp_list l = { 0 };
	int r = parse_all(host_config, &l, err);
	if (r < 0)
		return r;
	/* VolumesFrom: lowest precedence, a later explicit mount at the same
	 * destination replaces the copied one without an error. */
	size_t i;
	json_t *e;
	json_array_foreach (json_object_get(host_config, "VolumesFrom"), i, e) {
		_cleanup_free_ char *ctr = NULL;
		bool ro;
		if ((r = parse_volumes_from(json_string_value(e), &ctr, &ro, err)) < 0)
			return r;
		size_t j;
		json_t *src;
		json_array_foreach (volumes_from ? volumes_from[i] : NULL, j, src) {
			const char *type = str_field(src, "Type");
			const char *dest = str_field(src, "Destination");
			if (!dest || !type || strcmp(type, "tmpfs") == 0 || mp_find(&l, dest))
				continue;
			struct mp *m = mp_add(&l);
			m->type = strcmp(type, "volume") == 0 ? "volume" : "bind";
			m->dest = xstrdup(dest);
			json_t *c = json_deep_copy(src);
			bool rw = json_is_true(json_object_get(src, "RW")) && !ro;
			json_object_set_new(c, "Mode", json_string(""));
			json_object_set_new(c, "RW", json_boolean(rw));
			m->copied = c;
			const char *name = str_field(src, "Name");
			if (name)
				m->name = xstrdup(name);
		}
	}
	/* Anonymous volumes for the image's and Config's Volumes nothing covers. */
	json_t *sets[] = { json_object_get(image_config, "Volumes"),
			   json_object_get(config, "Volumes") };
	for (size_t s = 0; s < ARRAY_SIZE(sets); s++) {
		const char *dest;
		json_t *unused;
		json_object_foreach (sets[s], dest, unused) {
			struct mp probe = { .type = "volume" };
			if ((r = check_dest(&probe, dest, err)) < 0) {
				mp_release(&probe);
				return r;
			}
			bool covered = mp_find(&l, probe.dest) != NULL;
			if (covered) {
				mp_release(&probe);
				continue;
			}
			struct mp *m = mp_add(&l);
			m->type = "volume";
			m->dest = TAKE_PTR(probe.dest);
			m->mode = xstrdup("");
		}
	}
	/* Parents before children, so a mount inside another one is not hidden. */
	for (size_t a = 1; a < l.n; a++)
		for (size_t b = a; b > 0 && depth(l.v[b - 1].dest) > depth(l.v[b].dest); b--) {
			struct mp t = l.v[b];
			l.v[b] = l.v[b - 1];
			l.v[b - 1] = t;
		}
	if ((r = make_bind_sources(&l, err)) < 0)
		return r;
	_cleanup_strv_ char **made = NULL;
	if ((r = make_volumes(&l, vol, container_id, &made, err)) < 0) {
		drop_made(vol, container_id, made);
		return r;
	}
	_cleanup_strv_ char **names = xcalloc(1, sizeof(char *));
	size_t n_names = 0;
	json_t *out = json_array();
	for (size_t k = 0; k < l.n; k++) {
		json_array_append_new(out, mp_json(&l.v[k]));
		if (strcmp(l.v[k].type, "volume") == 0 && l.v[k].name)
			strv_append(&names, &n_names, l.v[k].name);
	}
	if (container_id &&
	    (r = volume_set_users(vol, container_id, (const char *const *)names, err)) < 0) {
		json_decref(out);
		drop_made(vol, container_id, made);
		return r;
	}
	*mounts = out;
	return 0;
}

/* ---- copy-up ---------------------------------------------------------------- */

static int copy_xattrs(int from, int to, const char *what, berth_err *err)
{
	ssize_t len = flistxattr(from, NULL, 0);
	if (len <= 0)
		return 0; /* none, or the filesystem has none */
	_cleanup_free_ char *names = xmalloc((size_t)len);
	len = flistxattr(from, names, (size_t)len);
	if (len < 0)
		return 0;
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		ssize_t vlen = fgetxattr(from, n, NULL, 0);
		if (vlen < 0)
			continue;
		_cleanup_free_ char *val = xmalloc((size_t)vlen + 1);
		vlen = fgetxattr(from, n, val, (size_t)vlen);
		if (vlen < 0)
			continue;
		if (fsetxattr(to, n, val, (size_t)vlen, 0) < 0 && errno != ENOTSUP &&
		    errno != EPERM)
			return berth_error_errno(err, "copy xattr %s of %s", n, what);
	}
	return 0;
}

/* Owner, then mode (a chown clears set-id bits), then xattrs and times. */
static int copy_attrs(int fd, const struct stat *sb, int from, const char *what, berth_err *err)
{
	if (fchown(fd, sb->st_uid, sb->st_gid) < 0)
		return berth_error_errno(err, "chown %s", what);
	if (fchmod(fd, sb->st_mode & 07777) < 0)
		return berth_error_errno(err, "chmod %s", what);
	if (from >= 0 && copy_xattrs(from, fd, what, err) < 0)
		return -EIO;
	struct timespec ts[2] = { sb->st_atim, sb->st_mtim };
	if (futimens(fd, ts) < 0)
		return berth_error_errno(err, "set times of %s", what);
	return 0;
}

static int copy_file(int sdir, int ddir, const char *name, const struct stat *sb, berth_err *err)
{
	_cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (in < 0)
		return berth_error_errno(err, "open %s", name);
	_cleanup_close_ int out =
		openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return berth_error_errno(err, "create %s", name);
	char buf[65536];
	for (;;) {
		ssize_t n = TEMP_FAILURE_RETRY_INT(read(in, buf, sizeof(buf)));
		if (n < 0)
			return berth_error_errno(err, "read %s", name);
		if (n == 0)
			break;
		for (ssize_t off = 0; off < n;) {
			ssize_t w =
				TEMP_FAILURE_RETRY_INT(write(out, buf + off, (size_t)(n - off)));
			if (w < 0)
				return berth_error_errno(err, "write %s", name);
			off += w;
		}
	}
	return copy_attrs(out, sb, in, name, err);
}

static int copy_tree(int sdir, int ddir, berth_err *err);

static int copy_entry(int sdir, int ddir, const char *name, berth_err *err)
{
	struct stat sb;
	if (fstatat(sdir, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return berth_error_errno(err, "stat %s", name);
	if (S_ISREG(sb.st_mode))
		return copy_file(sdir, ddir, name, &sb, err);
	if (S_ISDIR(sb.st_mode)) {
		if (mkdirat(ddir, name, 0700) < 0)
			return berth_error_errno(err, "create %s", name);
		_cleanup_close_ int s =
			openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		_cleanup_close_ int d =
			openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0 || d < 0)
			return berth_error_errno(err, "open %s", name);
		int r = copy_tree(s, d, err);
		if (r < 0)
			return berth_error_wrap(err, "%s", name);
		return copy_attrs(d, &sb, s, name, err);
	}
	if (S_ISLNK(sb.st_mode)) {
		/* Copied as a link, never followed: its target may point anywhere. */
		_cleanup_free_ char *target = xmalloc((size_t)sb.st_size + 1);
		ssize_t n = readlinkat(sdir, name, target, (size_t)sb.st_size + 1);
		if (n < 0 || (size_t)n > (size_t)sb.st_size)
			return berth_error_errno(err, "read link %s", name);
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return berth_error_errno(err, "create link %s", name);
		if (fchownat(ddir, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_errno(err, "chown %s", name);
		struct timespec ts[2] = { sb.st_atim, sb.st_mtim };
		utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (S_ISFIFO(sb.st_mode) || S_ISCHR(sb.st_mode) || S_ISBLK(sb.st_mode)) {
		if (mknodat(ddir, name, sb.st_mode, sb.st_rdev) < 0)
			return berth_error_errno(err, "create %s", name);
		_cleanup_close_ int fd = openat(ddir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || fchownat(fd, "", sb.st_uid, sb.st_gid, AT_EMPTY_PATH) < 0 ||
		    fchmodat(ddir, name, sb.st_mode & 07777, 0) < 0)
			return berth_error_errno(err, "set owner of %s", name);
		return 0;
	}
	return 0; /* sockets: nothing to copy */
}

static int copy_tree(int sdir, int ddir, berth_err *err)
{
	int dfd = dup(sdir);
	_cleanup_dir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return berth_error_errno(err, "read directory");
	}
	rewinddir(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		int r = copy_entry(sdir, ddir, de->d_name, err);
		if (r < 0)
			return r;
	}
	return 0;
}

static bool dir_empty(int fd)
{
	int dfd = dup(fd);
	_cleanup_dir_ DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			return false;
	return true;
}

static bool mode_has(const char *mode, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = mode; p && *p;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == n && strncmp(p, word, n) == 0)
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

int mounts_copy_up(json_t *mounts, const char *rootfs, berth_err *err)
{
	_cleanup_close_ int rootfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return berth_error_errno(err, "open rootfs %s", rootfs);
	size_t i;
	json_t *m;
	json_array_foreach (mounts, i, m) {
		const char *type = str_field(m, "Type");
		const char *source = str_field(m, "Source");
		const char *dest = str_field(m, "Destination");
		if (!type || strcmp(type, "volume") != 0 || !source || !dest ||
		    mode_has(str_field(m, "Mode"), "nocopy"))
			continue;
		berth_err lookup = BERTH_ERR_INIT;
		/* Resolved inside the rootfs: a symlink in the image cannot make us
		 * copy the host's files into the volume. */
		_cleanup_close_ int from = path_open_in_root(
			rootfd, dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0, &lookup);
		berth_err_clear(&lookup);
		if (from < 0)
			continue; /* nothing there (or not a directory): nothing to copy */
		_cleanup_close_ int to =
			open(source, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (to < 0)
			return berth_error_errno(err, "open volume %s", source);
		if (!dir_empty(to))
			continue;
		int r = copy_tree(from, to, err);
		struct stat sb;
		if (r == 0 && fstat(from, &sb) == 0)
			r = copy_attrs(to, &sb, from, dest, err);
		if (r < 0)
			return berth_error_wrap(err, "copy %s of the image into volume %s", dest,
						str_field(m, "Name") ? str_field(m, "Name") : "");
	}
	return 0;
}
