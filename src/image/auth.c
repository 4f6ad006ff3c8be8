/* auth.c - registry credentials in the docker CLI's config.json format. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/path.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "image/auth.h"
#include "image/reference.h"

#define HUB_KEY "https://index.docker.io/v1/"

char *auth_config_dir(const char *config_dir)
{
	if (config_dir && *config_dir)
		return xstrdup(config_dir);
	const char *env = getenv("DOCKER_CONFIG");
	if (env && *env)
		return xstrdup(env);
	const char *home = getenv("HOME");
	return path_join(home && *home ? home : "/root", ".docker");
}

static const char b64chars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const char *s)
{
	size_t n = strlen(s);
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)s[i] << 16;
		if (i + 1 < n)
			v |= (unsigned char)s[i + 1] << 8;
		if (i + 2 < n)
			v |= (unsigned char)s[i + 2];
		strbuf_addch(&sb, b64chars[(v >> 18) & 63]);
		strbuf_addch(&sb, b64chars[(v >> 12) & 63]);
		strbuf_addch(&sb, i + 1 < n ? b64chars[(v >> 6) & 63] : '=');
		strbuf_addch(&sb, i + 2 < n ? b64chars[v & 63] : '=');
	}
	return strbuf_detach(&sb, NULL);
}

/* NULL when s is not base64. */
static char *b64_decode(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	unsigned v = 0;
	int bits = 0;
	for (; *s && *s != '='; s++) {
		const char *p = strchr(b64chars, *s);
		if (!p || !*s) {
			strbuf_release(&sb);
			return NULL;
		}
		v = (v << 6) | (unsigned)(p - b64chars);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			strbuf_addch(&sb, (char)((v >> bits) & 0xff));
		}
	}
	return strbuf_detach(&sb, NULL);
}

static const char *server_key(const char *domain)
{
	return strcmp(domain, IMAGE_DEFAULT_DOMAIN) == 0 ? HUB_KEY : domain;
}

/* A key as other tools write it ("https://host/v1/", "host") -> "host". */
static char *key_host(const char *key)
{
	const char *p = strstr(key, "://");
	p = p ? p + 3 : key;
	size_t n = strcspn(p, "/");
	char *h = xstrndup(p, n);
	if (strcmp(h, "index.docker.io") == 0 || strcmp(h, "registry-1.docker.io") == 0) {
		free(h);
		h = xstrdup(IMAGE_DEFAULT_DOMAIN);
	}
	return h;
}

static json_t *load_config(const char *dir, berth_err *err)
{
	_cleanup_free_ char *path = path_join(dir, "config.json");
	_cleanup_free_ char *data = NULL;
	size_t len;
	if (file_read(path, &data, &len, err) < 0) {
		if (err->code == ENOENT) {
			berth_err_clear(err);
			return json_object();
		}
		return NULL;
	}
	json_error_t je;
	json_t *j = json_loadb(data, len, 0, &je);
	if (!j || !json_is_object(j)) {
		json_decref(j);
		berth_error_code(err, EINVAL, "%s: not a JSON object: %s", path, j ? "" : je.text);
		return NULL;
	}
	return j;
}

static json_t *find_entry(json_t *cfg, const char *domain, const char **key_out)
{
	json_t *auths = json_object_get(cfg, "auths");
	const char *key;
	json_t *v;
	json_object_foreach (auths, key, v) {
		_cleanup_free_ char *h = key_host(key);
		if (strcmp(h, domain) == 0) {
			if (key_out)
				*key_out = key;
			return v;
		}
	}
	return NULL;
}

int auth_lookup(const char *config_dir, const char *domain, char **user, char **password,
		berth_err *err)
{
	_cleanup_free_ char *dir = auth_config_dir(config_dir);
	_cleanup_json_ json_t *cfg = load_config(dir, err);
	if (!cfg)
		return -EINVAL;
	json_t *e = find_entry(cfg, domain, NULL);
	const char *a = json_string_value(json_object_get(e, "auth"));
	if (!a || !*a)
		return 1;
	_cleanup_free_ char *plain = b64_decode(a);
	char *colon = plain ? strchr(plain, ':') : NULL;
	if (!colon)
		return berth_error_code(
			err, EINVAL,
			"%s/config.json: the credentials of %s are not base64 of user:password",
			dir, domain);
	*colon = '\0';
	*user = xstrdup(plain);
	*password = xstrdup(colon + 1);
	return 0;
}

static int save_config(const char *dir, json_t *cfg, berth_err *err)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return berth_error_errno(err, "create %s", dir);
	_cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return berth_error_errno(err, "open %s", dir);
	_cleanup_free_ char *text = json_dumps(cfg, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	if (!text)
		return berth_error_code(err, ENOMEM, "encode %s/config.json", dir);
	_cleanup_free_ char *withnl = xasprintf("%s\n", text);
	int r = file_write_atomic(dfd, "config.json", withnl, strlen(withnl), 0600, err);
	return r < 0 ? berth_error_wrap(err, "%s", dir) : 0;
}

int auth_save(const char *config_dir, const char *domain, const char *user, const char *password,
	      berth_err *err)
{
	_cleanup_free_ char *dir = auth_config_dir(config_dir);
	_cleanup_json_ json_t *cfg = load_config(dir, err);
	if (!cfg)
		return -EINVAL;
	json_t *auths = json_object_get(cfg, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(cfg, "auths", auths);
	}
	const char *old = NULL;
	if (find_entry(cfg, domain, &old) && old) {
		_cleanup_free_ char *k = xstrdup(old);
		json_object_del(auths, k);
	}
	_cleanup_free_ char *pair = xasprintf("%s:%s", user, password);
	_cleanup_free_ char *enc = b64_encode(pair);
	json_object_set_new(auths, server_key(domain), json_pack("{s:s}", "auth", enc));
	return save_config(dir, cfg, err);
}

int auth_remove(const char *config_dir, const char *domain, berth_err *err)
{
	_cleanup_free_ char *dir = auth_config_dir(config_dir);
	_cleanup_json_ json_t *cfg = load_config(dir, err);
	if (!cfg)
		return -EINVAL;
	const char *key = NULL;
	if (!find_entry(cfg, domain, &key) || !key)
		return 1;
	_cleanup_free_ char *k = xstrdup(key);
	json_object_del(json_object_get(cfg, "auths"), k);
	int r = save_config(dir, cfg, err);
	return r < 0 ? r : 0;
}
