/* berth.h - the `berth` CLI: global options, shared helpers, the commands.
 *
 * Commands follow the docker CLI: names, flags (getopt_long, so -q and
 * --quiet, --flag=value and --flag value), output columns, exit codes (125
 * for an engine error). Each gets argc/argv starting at its own name and
 * returns the exit code; errors go through berth_fail(): one line
 * "berth: <what failed>: <why>" on stderr.
 *
 *   struct berth_globals  --root, --runroot, --config, --debug, --log-level
 *   berth_store()         the image store under --root, opened on first use
 *   berth_volumes()       the volume store on the same berth.db, opened on first use
 *   berth_fail()          print the error, return 1 (docker: 1 for a failed
 *                         request, 125 only for bad usage and for run/create)
 *   berth_close()         close the engine and the store
 *   berth_usage_error()   "berth CMD: <message>" + "See 'berth CMD --help'.", return 125
 *   berth_help()          print "Usage: berth CMD" with its usage line and options
 *   berth_is_tty()        is stdout a terminal (progress bars, etc.)
 *   berth_engine()        the container engine on the store, opened on first use
 *   berth_pull()          pull an image showing docker's progress (pull, run, create)
 *   prune_containers(), prune_images(), prune_volumes(), prune_networks()
 *   port_key_cmp()        qsort order of "80/tcp" keys (port, ps)
 *                         what `X prune` and `system prune` share: remove, print
 *                         docker's "Deleted ...:" section, add to *reclaimed
 */
#ifndef BERTH_CLI_BERTH_H
#define BERTH_CLI_BERTH_H

#include <stdbool.h>
#include <stdint.h>

#include "common/error.h"

struct image_store;
struct volume_store;

struct berth_globals {
	const char *root;       /* --root, default /var/lib/berth */
	const char *runroot;    /* --runroot, default /run/berth */
	const char *config_dir; /* --config, default ~/.docker (Docker's credential file format) */
	const char *certs_dir;  /* --certs-dir, default /etc/berth/certs.d */
	char **insecure;        /* --insecure-registry, repeatable, NULL-terminated */
	const char *mirror;     /* --registry-mirror for docker.io, or BERTH_REGISTRY_MIRROR */
	bool debug;
};

extern struct berth_globals berth;

struct image_store *berth_store(berth_err *err);
struct volume_store *berth_volumes(berth_err *err);
int berth_fail(berth_err *err);
/* Close the engine and the store (before removing the state they live in). */
void berth_close(void);
int berth_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void berth_help(const char *cmd);
bool berth_is_tty(void);
struct engine *berth_engine(berth_err *err);
int berth_pull(const char *name, const char *platform, bool quiet, berth_err *err);
int prune_containers(uint64_t *reclaimed, berth_err *err);
int prune_images(bool all, uint64_t *reclaimed, berth_err *err);
int prune_volumes(bool all, uint64_t *reclaimed, berth_err *err);
int prune_networks(berth_err *err);
/* qsort order of "PORT/PROTO" keys: by port number, then protocol (ctr_info.c). */
int port_key_cmp(const void *a, const void *b);

/* Image commands */
int cmd_pull(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_image_history(int argc, char **argv);
int cmd_image_prune(int argc, char **argv);
int cmd_save(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_system_df(int argc, char **argv);
int cmd_system_check(int argc, char **argv);

/* Volume commands */
int cmd_system_reset(int argc, char **argv);
int cmd_network_connect(int argc, char **argv);
int cmd_network_disconnect(int argc, char **argv);
int cmd_volume_create(int argc, char **argv);
int cmd_volume_ls(int argc, char **argv);
int cmd_volume_inspect(int argc, char **argv);
int cmd_volume_rm(int argc, char **argv);
int cmd_volume_prune(int argc, char **argv);

/* Network commands */
int cmd_network_create(int argc, char **argv);
int cmd_network_ls(int argc, char **argv);
int cmd_network_inspect(int argc, char **argv);
int cmd_network_rm(int argc, char **argv);
int cmd_network_prune(int argc, char **argv);

/* Container commands */
int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_restart(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_rename(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_container_inspect(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_container_cleanup(int argc, char **argv);
int cmd_container_healthcheck(int argc, char **argv);
int cmd_system_restore(int argc, char **argv);
int cmd_container_prune(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_port(int argc, char **argv);

/* System commands */
int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_system_prune(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_cp(int argc, char **argv);

#endif
