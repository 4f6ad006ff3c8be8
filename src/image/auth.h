/* auth.h - registry credentials, in the docker CLI's config.json format.
 *
 * The file is <config_dir>/config.json (config_dir: --config, else
 * $DOCKER_CONFIG, else ~/.docker), {"auths": {"<server>": {"auth":
 * base64("user:password")}}}, so `docker login` and `berth login` share it.
 * Docker Hub's key is "https://index.docker.io/v1/"; other registries are
 * keyed by host[:port] (keys written with a scheme or path by other tools
 * are matched too). Other keys of the file are kept as they are. Writes are
 * atomic, mode 0600.
 *
 *   auth_config_dir()   the directory in use, newly allocated
 *   auth_lookup()       0 and the credentials, or 1 when none are stored
 *   auth_save()         store credentials for a registry
 *   auth_remove()       forget them: 0, or 1 when there were none
 */
#ifndef BERTH_IMAGE_AUTH_H
#define BERTH_IMAGE_AUTH_H

#include "common/error.h"

char *auth_config_dir(const char *config_dir);
int auth_lookup(const char *config_dir, const char *domain, char **user, char **password,
		berth_err *err);
int auth_save(const char *config_dir, const char *domain, const char *user, const char *password,
	      berth_err *err);
int auth_remove(const char *config_dir, const char *domain, berth_err *err);

#endif
