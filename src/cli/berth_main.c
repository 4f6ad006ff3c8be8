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
#include "image/store.h"

struct berth_globals berth = {
	.root = "/var/lib/berth",
	.runroot = "/run/berth",
	.certs_dir = "/etc/berth/certs.d",
};

static struct image_store *store;

struct image_store *berth_store(berth_err *err)
{
	if (!store && image_store_open(berth.root, &store, err) < 0)
		return NULL;
	return store;
}

static struct volume_store *volumes;

struct volume_store *berth_volumes(berth_err *err)
{
	struct image_store *s = berth_store(err);
	if (s && !volumes && volume_store_open(image_store_db(s), berth.root, &volumes, err) < 0)
		return NULL;
	return volumes;
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
	{ "check", "      --fix               Remove what is inconsistent where it can be removed\n"
		   "  -q, --quiet             Print only the problems\n" },
	{ "volume create",
	  "  -d, --driver string     Specify volume driver name (default \"local\")\n"
	  "      --label list        Set metadata for a volume\n"
	  "  -o, --opt map           Set driver specific options\n" },
	{ "volume ls", "  -f, --filter filter     Provide filter values (e.g. \"dangling=true\")\n"
		       "      --format string     Format output using a custom template\n"
		       "  -q, --quiet             Only display volume names\n" },
	{ "volume inspect", "  -f, --format string     Format output using a custom template\n" },
	{ "volume rm", "  -f, --force             Force the removal of one or more volumes\n" },
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
	{ "system", "check", cmd_system_check, "[OPTIONS]",
	  "Check the store: database rows, blob digests and layer directories agree" },
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

static const char *const groups[] = { "image", "system", "volume" };

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
		   "  -D, --debug                    debug output\n"
		   "  -v, --version                  print version information and quit\n"
		   "\nManagement Commands:\n"
		   "  image       Manage images\n"
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
		if (commands[i].group && strcmp(commands[i].group, group) == 0)
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
	if (strcmp(name, "ls") == 0 || strcmp(name, "list") == 0)
		name = "images";
	else if (strcmp(name, "rm") == 0 || strcmp(name, "remove") == 0)
		name = "rmi";
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
	for (int i = 1; i < sub_argc; i++) {
		if (strcmp(sub_argv[i], "--") == 0)
			break;
		if (strcmp(sub_argv[i], "--help") == 0) {
			berth_help(full);
			return 0;
		}
	}
	optind = 0;
	int rc = cmd->fn(sub_argc, sub_argv);
	volume_store_close(volumes);
	if (store)
		image_store_close(store);
	return rc;
}
