/* berth_main.c - `berth`: global options, command groups, dispatch.
 *
 * Like the docker CLI: `berth [OPTIONS] COMMAND`, with management groups
 * (`berth image ls`, `berth system df`) and their top-level aliases
 * (`berth images`, `berth rmi`). Every command answers --help.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/log.h"
#include "engine/volume.h"
#include "engine/engine.h"
#include "image/store.h"

struct berth_globals berth = {
	.root = "/var/lib/berth",
	.runroot = "/run/berth",
	.certs_dir = "/etc/berth/certs.d",
};

static struct image_store *store;
static struct engine *engine;
static const char *default_bridge, *default_bip; /* --bridge, --bip */

struct image_store *berth_store(berth_err *err)
{
	if (!store && image_store_open(berth.root, &store, err) < 0)
		return NULL;
	return store;
}

/* Where a helper binary is: $ENV, next to berth, in the build tree's
 * src/DIR, or installed under libexec. */
static char *helper_path(const char *self, const char *env, const char *dir, const char *name)
{
	const char *v = getenv(env);
	if (v && *v)
		return strdup(v);
	char *base = strdup(self);
	char *slash = base ? strrchr(base, '/') : NULL;
	if (slash)
		*slash = 0;
	char *p = NULL;
	if (slash && asprintf(&p, "%s/%s", base, name) >= 0 && access(p, X_OK) == 0)
		goto out;
	free(p);
	p = NULL;
	if (slash && asprintf(&p, "%s/../%s/%s", base, dir, name) >= 0 && access(p, X_OK) == 0)
		goto out;
	free(p);
	if (asprintf(&p, "%s/berth/%s", BERTH_LIBEXECDIR, name) < 0)
		p = NULL;
out:
	free(base);
	return p;
}

struct engine *berth_engine(berth_err *err)
{
	if (engine)
		return engine;
	struct image_store *s = berth_store(err);
	if (!s)
		return NULL;
	_cleanup_free_ char *self = realpath("/proc/self/exe", NULL);
	if (!self)
		self = strdup("/proc/self/exe");
	_cleanup_free_ char *monitor = helper_path(self, "BERTH_MONITOR", "monitor", "berth-monitor");
	_cleanup_free_ char *init = helper_path(self, "BERTH_INIT", "init", "berth-init");
	_cleanup_free_ char *dns = helper_path(self, "BERTH_DNS", "dns", "berth-dns");
	char *global[9] = { "--root", (char *)berth.root, "--runroot", (char *)berth.runroot };
	size_t n = 4;
	if (default_bridge) {
		global[n++] = "--bridge";
		global[n++] = (char *)default_bridge;
	}
	if (default_bip) {
		global[n++] = "--bip";
		global[n++] = (char *)default_bip;
	}
	struct engine_paths p = {
		.root = berth.root,
		.runroot = berth.runroot,
		.self = self,
		.monitor = monitor,
		.init = init,
		.dns = dns,
		.global_args = global,
		.default_bridge = default_bridge,
		.default_bip = default_bip,
	};
	if (engine_open(&p, s, &engine, err) < 0)
		return NULL;
	return engine;
}

/* The volume store is the engine's: one per process. */
struct volume_store *berth_volumes(berth_err *err)
{
	struct engine *e = berth_engine(err);
	return e ? engine_volumes(e, err) : NULL;
}

void berth_close(void)
{
	if (engine)
		engine_close(engine);
	if (store)
		image_store_close(store);
	engine = NULL;
	store = NULL;
}

int berth_fail(berth_err *err)
{
	fprintf(stderr, "berth: %s\n", err->msg ? err->msg : "unknown error");
	berth_err_clear(err);
	return 1;
}

int berth_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "berth %s: ", cmd);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nSee 'berth %s --help'.\n", cmd);
	va_end(ap);
	return 125;
}

bool berth_is_tty(void)
{
	return isatty(STDOUT_FILENO) == 1;
}

struct command {
	const char *group; /* NULL: top level */
	const char *name;
	int (*fn)(int, char **);
	const char *usage;
	const char *help;
};

/* The options of each command, as `--help` lists them. */
static const struct {
	const char *name;
	const char *text;
} options[] = {
	{ "pull", "  -q, --quiet             Suppress verbose output\n"
		  "      --platform string   Set platform if server is multi-platform capable\n" },
	{ "push", "  -q, --quiet             Suppress verbose output\n" },
	{ "images", "  -a, --all               Show all images (no intermediate images exist)\n"
		    "      --digests           Show digests\n"
		    "  -f, --filter filter     Filter output based on conditions provided\n"
		    "                          (dangling=, reference=, label=, before=, since=)\n"
		    "      --format string     Pretty-print images using a Go template\n"
		    "      --no-trunc          Don't truncate output\n"
		    "  -q, --quiet             Only show image IDs\n" },
	{ "rmi", "  -f, --force             Force removal of the image\n"
		 "      --no-prune          Do not delete untagged parents\n" },
	{ "inspect", "  -f, --format string     Format the output using the given Go template\n" },
	{ "history", "      --format string     Pretty-print images using a Go template\n"
		     "  -H, --human             Print sizes and dates in human readable format "
		     "(default true)\n"
		     "      --no-trunc          Don't truncate output\n"
		     "  -q, --quiet             Only show image IDs\n" },
	{ "prune", "  -a, --all               Remove all unused images, not just dangling ones\n"
		   "  -f, --force             Do not prompt for confirmation\n" },
	{ "save", "  -o, --output string     Write to a file, instead of STDOUT\n"
		  "      --format string     docker (default) or oci\n" },
	{ "load", "  -i, --input string      Read from tar archive file, instead of STDIN\n"
		  "  -q, --quiet             Suppress the load output\n" },
	{ "import", "  -c, --change list       Apply Dockerfile instruction to the created image\n"
		    "  -m, --message string    Set commit message for imported image\n" },
	{ "login", "  -p, --password string   Password\n"
		   "      --password-stdin    Take the password from stdin\n"
		   "  -u, --username string   Username\n" },
	{ "df", "      --format string     Pretty-print using a Go template\n" },
	{ "run", "  -d, --detach              Run container in background and print container ID\n"
		 "  -i, --interactive         Keep STDIN open even if not attached\n"
		 "  -t, --tty                 Allocate a pseudo-TTY\n"
		 "      --rm                  Automatically remove the container when it exits\n"
		 "      --name string         Assign a name to the container\n"
		 "  -e, --env list            Set environment variables\n"
		 "      --env-file list       Read in a file of environment variables\n"
		 "  -l, --label list          Set meta data on a container\n"
		 "  -w, --workdir string      Working directory inside the container\n"
		 "  -u, --user string         Username or UID (format: <name|uid>[:<group|gid>])\n"
		 "      --entrypoint string   Overwrite the default ENTRYPOINT of the image\n"
		 "  -h, --hostname string     Container host name\n"
		 "  -v, --volume list         Bind mount a volume\n"
		 "      --mount mount         Attach a filesystem mount to the container\n"
		 "      --tmpfs list          Mount a tmpfs directory\n"
		 "      --read-only           Mount the container's root filesystem as read only\n"
		 "      --restart string      Restart policy to apply when a container exits (default \"no\")\n"
		 "      --init                Run an init inside the container that forwards signals and reaps processes\n"
		 "  -m, --memory bytes        Memory limit\n"
		 "      --cpus decimal        Number of CPUs\n"
		 "      --pids-limit int      Tune container pids limit (set -1 for unlimited)\n"
		 "      --cap-add list        Add Linux capabilities\n"
		 "      --cap-drop list       Drop Linux capabilities\n"
		 "      --privileged          Give extended privileges to this container\n"
		 "      --security-opt list   Security Options\n"
		 "      --network string      Connect a container to a network (none, host)\n"
		 "      --log-driver string   Logging driver for the container (json-file, none)\n"
		 "      --log-opt list        Log driver options (max-size, max-file)\n"
		 "      --stop-signal string  Signal to stop the container\n"
		 "      --stop-timeout int    Timeout (in seconds) to stop a container\n"
		 "      --pull string         Pull image before running (\"always\", \"missing\", \"never\")\n"
		 "  (and the other docker run options: see berth-run(1))\n" },
	{ "start", "  -a, --attach              Attach STDOUT/STDERR and forward signals\n"
		   "      --detach-keys string  Override the key sequence for detaching a container\n"
		   "  -i, --interactive         Attach container's STDIN\n" },
	{ "ps", "  -a, --all             Show all containers (default shows just running)\n"
		"  -f, --filter filter   Filter output based on conditions provided\n"
		"                        (name=, id=, label=, status=, ancestor=, exited=, health=)\n"
		"      --format string   Pretty-print containers using a Go template\n"
		"  -n, --last int        Show n last created containers (includes all states)\n"
		"  -l, --latest          Show the latest created container (includes all states)\n"
		"      --no-trunc        Don't truncate output\n"
		"  -q, --quiet           Only display container IDs\n"
		"  -s, --size            Display total file sizes\n" },
	{ "stop", "  -s, --signal string   Signal to send to the container\n"
		  "  -t, --time int        Seconds to wait before killing the container\n" },
	{ "kill", "  -s, --signal string   Signal to send to the container (default \"KILL\")\n" },
	{ "container rm", "  -f, --force     Force the removal of a running container (uses SIGKILL)\n"
			  "  -v, --volumes   Remove anonymous volumes associated with the container\n" },
	{ "logs", "  -f, --follow         Follow log output\n"
		  "      --since string   Show logs since timestamp or relative (e.g. 42m)\n"
		  "  -n, --tail string    Number of lines to show from the end of the logs (default \"all\")\n"
		  "  -t, --timestamps     Show timestamps\n"
		  "      --until string   Show logs before a timestamp or relative (e.g. 42m)\n" },
	{ "commit", "  -a, --author string    Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")\n"
		    "  -c, --change list      Apply Dockerfile instruction to the created image\n"
		    "  -m, --message string   Commit message\n"
		    "  -p, --pause            Pause container during commit (default true)\n" },
	{ "cp", "  -a, --archive       Archive mode (copy all uid/gid information)\n"
		"  -L, --follow-link   Always follow symbol link in SRC_PATH\n"
		"  -q, --quiet         Suppress progress output during copy\n" },
	{ "check", "      --fix               Remove what is inconsistent where it can be removed\n"
		   "  -q, --quiet             Print only the problems\n" },
	{ "stats", "  -a, --all             Show all containers (default shows just running)\n"
		   "      --format string   Format output using a custom template\n"
		   "      --no-stream       Disable streaming stats and only pull the first result\n"
		   "      --no-trunc        Do not truncate output\n" },
	{ "update", "      --blkio-weight uint16        Block IO (relative weight), between 10 and 1000, or 0 to disable\n"
		    "      --cpu-period int             Limit CPU CFS (Completely Fair Scheduler) period\n"
		    "      --cpu-quota int              Limit CPU CFS (Completely Fair Scheduler) quota\n"
		    "  -c, --cpu-shares int             CPU shares (relative weight)\n"
		    "      --cpus decimal               Number of CPUs\n"
		    "      --cpuset-cpus string         CPUs in which to allow execution (0-3, 0,1)\n"
		    "      --cpuset-mems string         MEMs in which to allow execution (0-3, 0,1)\n"
		    "  -m, --memory bytes               Memory limit\n"
		    "      --memory-reservation bytes   Memory soft limit\n"
		    "      --memory-swap bytes          Swap limit equal to memory plus swap: -1 to enable unlimited swap\n"
		    "      --pids-limit int             Tune container pids limit (set -1 for unlimited)\n"
		    "      --restart string             Restart policy to apply when a container exits\n" },
	{ "attach", "      --detach-keys string   Override the key sequence for detaching a container\n"
		    "      --no-stdin             Do not attach STDIN\n"
		    "      --sig-proxy            Proxy all received signals to the process (default true)\n" },
	{ "version", "  -f, --format string   Format the output using the given Go template\n" },
	{ "info", "  -f, --format string   Format the output using the given Go template\n" },
	{ "system prune", "  -a, --all       Remove all unused images not just dangling ones\n"
			  "  -f, --force     Do not prompt for confirmation\n"
			  "      --volumes   Prune anonymous volumes\n" },
	{ "volume create",
	  "  -d, --driver string     Specify volume driver name (default \"local\")\n"
	  "      --label list        Set metadata for a volume\n"
	  "  -o, --opt map           Set driver specific options\n" },
	{ "volume ls", "  -f, --filter filter     Provide filter values (e.g. \"dangling=true\")\n"
		       "      --format string     Format output using a custom template\n"
		       "  -q, --quiet             Only display volume names\n" },
	{ "volume inspect", "  -f, --format string     Format output using a custom template\n" },
	{ "volume rm", "  -f, --force             Force the removal of one or more volumes\n" },
	{ "network create",
	  "      --attachable        Accepted for compatibility (every network is)\n"
	  "  -d, --driver string     Driver to manage the Network (default \"bridge\")\n"
	  "      --gateway strings   IPv4 or IPv6 Gateway for the master subnet\n"
	  "      --internal          Restrict external access to the network\n"
	  "      --ip-range strings  Allocate container ip from a sub-range\n"
	  "      --ipam-driver string  IP Address Management Driver (default \"default\")\n"
	  "      --ipv6              Enable IPv6 networking\n"
	  "      --label list        Set metadata on a network\n"
	  "  -o, --opt map           Set driver specific options\n"
	  "      --subnet strings    Subnet in CIDR format that represents a network segment\n" },
	{ "network ls",
	  "  -f, --filter filter     Provide filter values (e.g. \"driver=bridge\")\n"
	  "      --format string     Format output using a custom template\n"
	  "      --no-trunc          Do not truncate the output\n"
	  "  -q, --quiet             Only display network IDs\n" },
	{ "network inspect", "  -f, --format string     Format output using a custom template\n"
			     "  -v, --verbose           Verbose output for diagnostics\n" },
	{ "network rm", "  -f, --force             Do not error if the network does not exist\n" },
	{ "network prune",
	  "      --filter filter     Provide filter values (e.g. \"label=<label>\")\n"
	  "  -f, --force             Do not prompt for confirmation\n" },
	{ "volume prune",
	  "  -a, --all               Remove all unused volumes, not just anonymous ones\n"
	  "      --filter filter     Provide filter values (e.g. \"label=<label>\")\n"
	  "  -f, --force             Do not prompt for confirmation\n" },
};

static const struct command commands[] = {
	{ NULL, "pull", cmd_pull, "[OPTIONS] NAME[:TAG|@DIGEST]",
	  "Download an image from a registry" },
	{ NULL, "push", cmd_push, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry" },
	{ NULL, "images", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images" },
	{ NULL, "rmi", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images" },
	{ NULL, "tag", cmd_tag, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ NULL, "save", cmd_save, "[OPTIONS] IMAGE [IMAGE...]",
	  "Save one or more images to a tar archive (streamed to STDOUT by default)" },
	{ NULL, "load", cmd_load, "[OPTIONS]", "Load an image from a tar archive or STDIN" },
	{ NULL, "import", cmd_import, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	  "Import the contents from a tarball to create a filesystem image" },
	{ NULL, "login", cmd_login, "[OPTIONS] [SERVER]", "Log in to a registry" },
	{ NULL, "logout", cmd_logout, "[SERVER]", "Log out from a registry" },
	{ NULL, "run", cmd_run, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image" },
	{ NULL, "create", cmd_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container" },
	{ NULL, "start", cmd_start, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers" },
	{ NULL, "ps", cmd_ps, "[OPTIONS]", "List containers" },
	{ NULL, "stop", cmd_stop, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers" },
	{ NULL, "restart", cmd_restart, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers" },
	{ NULL, "kill", cmd_kill, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers" },
	{ NULL, "rm", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers" },
	{ NULL, "wait", cmd_wait, "CONTAINER [CONTAINER...]",
	  "Block until one or more containers stop, then print their exit codes" },
	{ NULL, "rename", cmd_rename, "CONTAINER NEW_NAME", "Rename a container" },
	{ NULL, "inspect", cmd_inspect, "[OPTIONS] NAME|ID [NAME|ID...]", "Return low-level information on Berth objects" },
	{ NULL, "exec", cmd_exec, "[OPTIONS] CONTAINER COMMAND [ARG...]", "Execute a command in a running container" },
	{ NULL, "logs", cmd_logs, "[OPTIONS] CONTAINER", "Fetch the logs of a container" },
	{ NULL, "pause", cmd_pause, "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers" },
	{ NULL, "unpause", cmd_unpause, "CONTAINER [CONTAINER...]",
	  "Unpause all processes within one or more containers" },
	{ NULL, "attach", cmd_attach, "[OPTIONS] CONTAINER",
	  "Attach local standard input, output, and error streams to a running container" },
	{ NULL, "top", cmd_top, "CONTAINER [ps OPTIONS]", "Display the running processes of a container" },
	{ NULL, "stats", cmd_stats, "[OPTIONS] [CONTAINER...]",
	  "Display a live stream of container(s) resource usage statistics" },
	{ NULL, "update", cmd_update, "[OPTIONS] CONTAINER [CONTAINER...]",
	  "Update configuration of one or more containers" },
	{ NULL, "port", cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]",
	  "List port mappings or a specific mapping for the container" },
	{ NULL, "version", cmd_version, "[OPTIONS]", "Show the Berth version information" },
	{ NULL, "info", cmd_info, "[OPTIONS]", "Display system-wide information" },
	{ "container", "attach", cmd_attach, "[OPTIONS] CONTAINER",
	  "Attach local standard input, output, and error streams to a running container" },
	{ "container", "top", cmd_top, "CONTAINER [ps OPTIONS]", "Display the running processes of a container" },
	{ "container", "stats", cmd_stats, "[OPTIONS] [CONTAINER...]",
	  "Display a live stream of container(s) resource usage statistics" },
	{ "container", "update", cmd_update, "[OPTIONS] CONTAINER [CONTAINER...]",
	  "Update configuration of one or more containers" },
	{ "container", "port", cmd_port, "CONTAINER [PRIVATE_PORT[/PROTO]]",
	  "List port mappings or a specific mapping for the container" },
	{ "system", "info", cmd_info, "[OPTIONS]", "Display system-wide information" },
	{ "system", "prune", cmd_system_prune, "[OPTIONS]", "Remove unused data" },
	{ "system", "reset", cmd_system_reset, "[OPTIONS]",
	  "Remove every container, network, volume and image of this root" },
	{ "container", "run", cmd_run, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create and run a new container from an image" },
	{ "container", "create", cmd_create, "[OPTIONS] IMAGE [COMMAND] [ARG...]", "Create a new container" },
	{ "container", "start", cmd_start, "[OPTIONS] CONTAINER [CONTAINER...]", "Start one or more stopped containers" },
	{ "container", "ls", cmd_ps, "[OPTIONS]", "List containers" },
	{ "container", "list", cmd_ps, "[OPTIONS]", "List containers" },
	{ "container", "ps", cmd_ps, "[OPTIONS]", "List containers" },
	{ "container", "stop", cmd_stop, "[OPTIONS] CONTAINER [CONTAINER...]", "Stop one or more running containers" },
	{ "container", "restart", cmd_restart, "[OPTIONS] CONTAINER [CONTAINER...]", "Restart one or more containers" },
	{ "container", "kill", cmd_kill, "[OPTIONS] CONTAINER [CONTAINER...]", "Kill one or more running containers" },
	{ "container", "rm", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers" },
	{ "container", "remove", cmd_rm, "[OPTIONS] CONTAINER [CONTAINER...]", "Remove one or more containers" },
	{ "container", "wait", cmd_wait, "CONTAINER [CONTAINER...]",
	  "Block until one or more containers stop, then print their exit codes" },
	{ "container", "rename", cmd_rename, "CONTAINER NEW_NAME", "Rename a container" },
	{ "container", "inspect", cmd_container_inspect, "[OPTIONS] CONTAINER [CONTAINER...]",
	  "Display detailed information on one or more containers" },
	{ "container", "exec", cmd_exec, "[OPTIONS] CONTAINER COMMAND [ARG...]",
	  "Execute a command in a running container" },
	{ "container", "logs", cmd_logs, "[OPTIONS] CONTAINER", "Fetch the logs of a container" },
	{ "container", "pause", cmd_pause, "CONTAINER [CONTAINER...]", "Pause all processes within one or more containers" },
	{ "container", "unpause", cmd_unpause, "CONTAINER [CONTAINER...]",
	  "Unpause all processes within one or more containers" },
	{ "container", "prune", cmd_container_prune, "[OPTIONS]", "Remove all stopped containers" },
	{ NULL, "diff", cmd_diff, "CONTAINER", "Inspect changes to files or directories on a container's filesystem" },
	{ "container", "diff", cmd_diff, "CONTAINER", "Inspect changes to files or directories on a container's filesystem" },
	{ NULL, "commit", cmd_commit, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes" },
	{ "container", "commit", cmd_commit, "[OPTIONS] CONTAINER [REPOSITORY[:TAG]]", "Create a new image from a container's changes" },
	{ NULL, "cp", cmd_cp, "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
	  "Copy files/folders between a container and the local filesystem" },
	{ "container", "cp", cmd_cp, "[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth container cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
	  "Copy files/folders between a container and the local filesystem" },
	{ "container", "cleanup", cmd_container_cleanup, "ID", NULL },
	{ "container", "healthcheck", cmd_container_healthcheck, "ID", NULL },
	{ "image", "ls", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images" },
	{ "image", "list", cmd_images, "[OPTIONS] [REPOSITORY[:TAG]]", "List images" },
	{ "image", "rm", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images" },
	{ "image", "remove", cmd_rmi, "[OPTIONS] IMAGE [IMAGE...]", "Remove one or more images" },
	{ "image", "inspect", cmd_image_inspect, "[OPTIONS] IMAGE [IMAGE...]",
	  "Display detailed information on one or more images" },
	{ "image", "history", cmd_image_history, "[OPTIONS] IMAGE",
	  "Show the history of an image" },
	{ "image", "prune", cmd_image_prune, "[OPTIONS]", "Remove unused images" },
	{ "image", "pull", cmd_pull, "[OPTIONS] NAME[:TAG|@DIGEST]",
	  "Download an image from a registry" },
	{ "image", "push", cmd_push, "[OPTIONS] NAME[:TAG]", "Upload an image to a registry" },
	{ "image", "tag", cmd_tag, "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
	  "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE" },
	{ "image", "save", cmd_save, "[OPTIONS] IMAGE [IMAGE...]",
	  "Save one or more images to a tar archive" },
	{ "image", "load", cmd_load, "[OPTIONS]", "Load an image from a tar archive or STDIN" },
	{ "image", "import", cmd_import, "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
	  "Import the contents from a tarball to create a filesystem image" },
	{ "system", "df", cmd_system_df, "[OPTIONS]", "Show disk usage" },
	{ "system", "restore", cmd_system_restore, "",
	  "After a reboot: record lost exits, start the containers whose restart policy says so" },
	{ "system", "check", cmd_system_check, "[OPTIONS]",
	  "Check the store: database rows, blob digests and layer directories agree" },
	{ "network", "connect", cmd_network_connect, "[OPTIONS] NETWORK CONTAINER",
	  "Connect a container to a network" },
	{ "network", "create", cmd_network_create, "[OPTIONS] NETWORK", "Create a network" },
	{ "network", "disconnect", cmd_network_disconnect, "[OPTIONS] NETWORK CONTAINER",
	  "Disconnect a container from a network" },
	{ "network", "ls", cmd_network_ls, "[OPTIONS]", "List networks" },
	{ "network", "list", cmd_network_ls, "[OPTIONS]", "List networks" },
	{ "network", "inspect", cmd_network_inspect, "[OPTIONS] NETWORK [NETWORK...]",
	  "Display detailed information on one or more networks" },
	{ "network", "rm", cmd_network_rm, "[OPTIONS] NETWORK [NETWORK...]",
	  "Remove one or more networks" },
	{ "network", "remove", cmd_network_rm, "[OPTIONS] NETWORK [NETWORK...]",
	  "Remove one or more networks" },
	{ "network", "prune", cmd_network_prune, "[OPTIONS]", "Remove all unused networks" },
	{ "volume", "create", cmd_volume_create, "[OPTIONS] [VOLUME]", "Create a volume" },
	{ "volume", "ls", cmd_volume_ls, "[OPTIONS]", "List volumes" },
	{ "volume", "list", cmd_volume_ls, "[OPTIONS]", "List volumes" },
	{ "volume", "inspect", cmd_volume_inspect, "[OPTIONS] VOLUME [VOLUME...]",
	  "Display detailed information on one or more volumes" },
	{ "volume", "rm", cmd_volume_rm, "[OPTIONS] VOLUME [VOLUME...]",
	  "Remove one or more volumes" },
	{ "volume", "remove", cmd_volume_rm, "[OPTIONS] VOLUME [VOLUME...]",
	  "Remove one or more volumes" },
	{ "volume", "prune", cmd_volume_prune, "[OPTIONS]", "Remove unused local volumes" },
};

static const char *const groups[] = { "container", "image", "network", "system", "volume" };

static void usage(FILE *f)
{
	fprintf(f, "\nUsage:  berth [OPTIONS] COMMAND\n\nA daemonless container engine\n\n"
		   "Options:\n"
		   "      --root DIR                 persistent state (default /var/lib/berth)\n"
		   "      --runroot DIR              runtime state (default /run/berth)\n"
		   "      --config DIR               client config files (default ~/.docker)\n"
		   "      --certs-dir DIR            per-registry TLS files (default "
		   "/etc/berth/certs.d)\n"
		   "      --insecure-registry HOST   allow plain HTTP for HOST (repeatable)\n"
		   "      --registry-mirror URL      where docker.io names are pulled from\n"
		   "      --bridge NAME              the bridge network's device when first made "
		   "(default berth0)\n"
		   "      --bip CIDR                 its address and subnet when first made\n"
		   "  -D, --debug                    debug output\n"
		   "  -v, --version                  print version information and quit\n"
		   "\nManagement Commands:\n"
		   "  container   Manage containers\n"
		   "  image       Manage images\n"
		   "  network     Manage networks\n"
		   "  system      Manage Berth\n"
		   "\nCommands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (!commands[i].group)
			fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'berth COMMAND --help' for more information on a command.\n");
}

static void group_usage(FILE *f, const char *group)
{
	fprintf(f, "\nUsage:  berth %s COMMAND\n\nCommands:\n", group);
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (commands[i].group && strcmp(commands[i].group, group) == 0 && commands[i].help)
			fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nRun 'berth %s COMMAND --help' for more information on a command.\n", group);
}

static const struct command *find(const char *group, const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		const struct command *c = &commands[i];
		if (((!group && !c->group) ||
		     (group && c->group && strcmp(group, c->group) == 0)) &&
		    strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

static const char *help_name; /* "image ls", for berth_help() */
static const struct command *help_cmd;

void berth_help(const char *cmd)
{
	const struct command *c = help_cmd;
	printf("\nUsage:  berth %s %s\n\n%s\n", cmd ? cmd : help_name, c ? c->usage : "",
	       c ? c->help : "");
	const char *name = c ? c->name : "";
	bool image = c && c->group && strcmp(c->group, "image") == 0;
	bool container = c && (!c->group || strcmp(c->group, "container") == 0);
	if (image && (strcmp(name, "ls") == 0 || strcmp(name, "list") == 0))
		name = "images";
	else if (image && (strcmp(name, "rm") == 0 || strcmp(name, "remove") == 0))
		name = "rmi";
	else if (container && (strcmp(name, "ls") == 0 || strcmp(name, "list") == 0))
		name = "ps";
	else if (container && (strcmp(name, "rm") == 0 || strcmp(name, "remove") == 0))
		name = "container rm";
	else if (container && strcmp(name, "create") == 0)
		name = "run";
	else if (container && strcmp(name, "restart") == 0)
		name = "stop";
	/* A group's own entry ("volume ls") before the image commands' names. */
	char qualified[64] = "";
	if (c && c->group)
		snprintf(qualified, sizeof(qualified), "%s %s", c->group, c->name);
	for (size_t i = 0; qualified[0] && i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, qualified) == 0)
			name = qualified;
	for (size_t i = 0; i < ARRAY_SIZE(options); i++)
		if (strcmp(options[i].name, name) == 0)
			printf("\nOptions:\n%s", options[i].text);
	printf("\nSee berth(1) for more.\n");
}

static char **insecure_list;
static size_t n_insecure;

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "root", required_argument, NULL, 'r' },
		{ "runroot", required_argument, NULL, 'R' },
		{ "config", required_argument, NULL, 'c' },
		{ "certs-dir", required_argument, NULL, 'C' },
		{ "insecure-registry", required_argument, NULL, 'i' },
		{ "registry-mirror", required_argument, NULL, 'm' },
		{ "bridge", required_argument, NULL, 'B' },
		{ "bip", required_argument, NULL, 'P' },
		{ "debug", no_argument, NULL, 'D' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	/* libcurl and the pull's pipes report a closed peer as EPIPE, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	const char *env_mirror = getenv("BERTH_REGISTRY_MIRROR");
	if (env_mirror && *env_mirror)
		berth.mirror = env_mirror;
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+Dl:hv", opts, NULL)) != -1) {
		switch (c) {
		case 'r': berth.root = optarg; break;
		case 'R': berth.runroot = optarg; break;
		case 'c': berth.config_dir = optarg; break;
		case 'C': berth.certs_dir = optarg; break;
		case 'i':
			insecure_list = realloc(insecure_list, (n_insecure + 2) * sizeof(char *));
			if (!insecure_list)
				abort();
			insecure_list[n_insecure++] = optarg;
			insecure_list[n_insecure] = NULL;
			berth.insecure = insecure_list;
			break;
		case 'm': berth.mirror = optarg; break;
		case 'B': default_bridge = optarg; break;
		case 'P': default_bip = optarg; break;
		case 'D': berth.debug = true; break;
		case 'l': break;
		case 'h': usage(stdout); return 0;
		case 'v': printf("Berth version %s\n", BERTH_VERSION); return 0;
		default:
			if (optopt && optopt != '?')
				fprintf(stderr, "berth: option requires an argument: %s\n",
					argv[optind - 1]);
			else
				fprintf(stderr, "unknown flag: %s\nSee 'berth --help'.\n",
					argv[optind - 1]);
			return 125;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 125;
	}
	const char *group = NULL;
	const char *name = argv[optind];
	for (size_t i = 0; i < ARRAY_SIZE(groups); i++) {
		if (strcmp(name, groups[i]) == 0) {
			group = groups[i];
			if (optind + 1 >= argc || strcmp(argv[optind + 1], "--help") == 0 ||
			    strcmp(argv[optind + 1], "-h") == 0) {
				group_usage(optind + 1 >= argc ? stderr : stdout, group);
				return optind + 1 >= argc ? 125 : 0;
			}
			name = argv[++optind];
			break;
		}
	}
	const struct command *cmd = find(group, name);
	if (!cmd) {
		if (group)
			fprintf(stderr,
				"berth: '%s %s' is not a berth command.\nSee 'berth %s --help'\n",
				group, name, group);
		else
			fprintf(stderr, "berth: '%s' is not a berth command.\nSee 'berth --help'\n",
				name);
		return 125;
	}
	_cleanup_free_ char *full = NULL;
	if (asprintf(&full, "%s%s%s", group ? group : "", group ? " " : "", name) < 0)
		abort();
	help_name = full;
	help_cmd = cmd;
	int sub_argc = argc - optind;
	char **sub_argv = argv + optind;
	/* run, create and exec: what follows the image or container is the
	 * command's, --help included. */
	bool takes_command = cmd->fn == cmd_run || cmd->fn == cmd_create || cmd->fn == cmd_exec;
	for (int i = 1; i < sub_argc; i++) {
		if (strcmp(sub_argv[i], "--") == 0 || (takes_command && sub_argv[i][0] != '-'))
			break;
		if (strcmp(sub_argv[i], "--help") == 0) {
			berth_help(full);
			return 0;
		}
	}
	optind = 0;
	int rc = cmd->fn(sub_argc, sub_argv);
	berth_close();
	return rc;
}
