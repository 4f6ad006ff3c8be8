/* sys_info.c - `berth version`, `berth info` and `berth system prune`.
 *
 * There is no daemon: the "Server" of docker's output is the engine library
 * in this same process, so both halves report the same build. The JSON
 * behind --format uses docker's field names, so templates written for
 * docker (`{{.Client.Version}}`, `{{.NCPU}}`, `{{json .}}`) keep working. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "berth_commit.h"
#include "cli/berth.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "image/store.h"
#include "oci/cgroup.h"

#define BERTH_API_VERSION     "1.43"
#define BERTH_MIN_API_VERSION "1.12"

/* Go's names for the machine: GOARCH. */
static const char *go_arch(const char *machine)
{
	static const char *const map[][2] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" },   { "i686", "386" },
		{ "i386", "386" },     { "armv7l", "arm" },      { "ppc64le", "ppc64le" },
		{ "s390x", "s390x" },  { "riscv64", "riscv64" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(map); i++)
		if (!strcmp(machine, map[i][0]))
			return map[i][1];
	return machine;
}

/* Templates run on a JSON value; text output is a template too. */
static int print_with_format(const char *format, json_t *v)
{
	berth_err err = BERTH_ERR_INIT;
	struct fmt_template *t = NULL;
	if (fmt_compile(format, NULL, &t, &err) < 0)
		return berth_fail(&err);
	struct strbuf sb;
	strbuf_init(&sb, 256);
	int rc = 0;
	if (fmt_render(t, v, &sb, &err) < 0)
		rc = berth_fail(&err);
	else
		printf("%s\n", sb.buf ? sb.buf : "");
	strbuf_release(&sb);
	fmt_free(t);
	return rc;
}

static const char *format_option(int argc, char **argv, int *rc)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = NULL;
	int c;
	*rc = -1;
	while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
		if (c != 'f') {
			*rc = berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
			return NULL;
		}
		format = optarg;
	}
	if (optind < argc) {
		*rc = berth_usage_error(argv[0], "\"%s\" accepts no arguments.", argv[0]);
		return NULL;
	}
	return format;
}

/* ---- version -------------------------------------------------------------- */

/* When the berth binary was built: its mtime, in Go's time.ANSIC layout. */
static char *build_time(bool rfc3339)
{
	struct stat st;
	if (stat("/proc/self/exe", &st) < 0)
		return xstrdup("");
	struct tm tm;
	if (rfc3339) {
		gmtime_r(&st.st_mtime, &tm);
		char buf[64];
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S.000000000+00:00", &tm);
		return xstrdup(buf);
	}
	localtime_r(&st.st_mtime, &tm);
	char buf[64];
	strftime(buf, sizeof(buf), "%a %b %e %H:%M:%S %Y", &tm);
	return xstrdup(buf);
}

static json_t *version_json(void)
{
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	const char *arch = go_arch(u.machine);
	_cleanup_free_ char *built = build_time(false), *built_rfc = build_time(true);
	/* what docker calls the Go version: here the C compiler berth was built with */
#ifdef __clang__
	const char *lang = "C (" __VERSION__ ")";
#else
	const char *lang = "C (gcc " __VERSION__ ")";
#endif
	json_t *details =
		json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "ApiVersion", BERTH_API_VERSION,
			  "Arch", arch, "BuildTime", built_rfc, "Experimental", "false",
			  "GitCommit", BERTH_GIT_COMMIT, "GoVersion", lang, "KernelVersion",
			  u.release, "MinAPIVersion", BERTH_MIN_API_VERSION);
	json_object_set_new(details, "Os", json_string("linux"));
	json_t *server =
		json_pack("{s:{s:s},s:[{s:s,s:s,s:o}],s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}",
			  "Platform", "Name", "Berth Engine", "Components", "Name", "Engine",
			  "Version", BERTH_VERSION, "Details", details, "Version", BERTH_VERSION,
			  "ApiVersion", BERTH_API_VERSION, "MinAPIVersion", BERTH_MIN_API_VERSION,
			  "GitCommit", BERTH_GIT_COMMIT, "GoVersion", lang, "Os", "linux", "Arch",
			  arch, "KernelVersion", u.release, "BuildTime", built_rfc);
	json_t *client = json_pack("{s:{s:s},s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "Platform",
				   "Name", "Berth", "Version", BERTH_VERSION, "ApiVersion",
				   BERTH_API_VERSION, "DefaultAPIVersion", BERTH_API_VERSION,
				   "GitCommit", BERTH_GIT_COMMIT, "GoVersion", lang, "Os", "linux",
				   "Arch", arch, "BuildTime", built, "Context", "default");
	return json_pack("{s:o,s:o}", "Client", client, "Server", server);
}

int cmd_version(int argc, char **argv)
{
	int rc;
	const char *format = format_option(argc, argv, &rc);
	if (rc >= 0)
		return rc;
	_cleanup_json_ json_t *v = version_json();
	if (format)
		return print_with_format(format, v);
	json_t *c = json_object_get(v, "Client"), *s = json_object_get(v, "Server");
#define F(o, k) (json_string_value(json_object_get(o, k)) ?: "")
	const char *commit = *BERTH_GIT_COMMIT ? BERTH_GIT_COMMIT : "unknown";
	printf("Client:\n"
	       " Version:           %s\n"
	       " API version:       %s\n"
	       " Go version:        %s\n"
	       " Git commit:        %s\n"
	       " Built:             %s\n"
	       " OS/Arch:           %s/%s\n"
	       " Context:           %s\n\n",
	       F(c, "Version"), F(c, "ApiVersion"), F(c, "GoVersion"), commit, F(c, "BuildTime"),
	       F(c, "Os"), F(c, "Arch"), F(c, "Context"));
	_cleanup_free_ char *built = build_time(false);
	printf("Server: %s\n"
	       " Engine:\n"
	       "  Version:          %s\n"
	       "  API version:      %s (minimum version %s)\n"
	       "  Go version:       %s\n"
	       "  Git commit:       %s\n"
	       "  Built:            %s\n"
	       "  OS/Arch:          %s/%s\n"
	       "  Experimental:     false\n",
	       F(json_object_get(s, "Platform"), "Name"), F(s, "Version"), F(s, "ApiVersion"),
	       F(s, "MinAPIVersion"), F(s, "GoVersion"), commit, built, F(s, "Os"), F(s, "Arch"));
#undef F
	return 0;
}

/* ---- info ----------------------------------------------------------------- */

static char *os_pretty_name(void)
{
	_cleanup_free_ char *s = NULL;
	if (file_read("/etc/os-release", &s, NULL, NULL) < 0 &&
	    file_read("/usr/lib/os-release", &s, NULL, NULL) < 0)
		return xstrdup("<unknown>");
	for (char *line = s, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		if (strncmp(line, "PRETTY_NAME=", 12))
			continue;
		char *v = line + 12;
		size_t n = strlen(v);
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
			v[n - 1] = 0;
			v++;
		}
		return xstrdup(v);
	}
	return xstrdup("<unknown>");
}

static int64_t mem_total(void)
{
	_cleanup_free_ char *s = NULL;
	if (file_read("/proc/meminfo", &s, NULL, NULL) < 0)
		return 0;
	const char *p = strstr(s, "MemTotal:");
	return p ? strtoll(p + 9, NULL, 10) * 1024 : 0;
}

static int info_json(json_t **out, berth_err *err)
{
	struct engine *e = berth_engine(err);
	struct image_store *s = berth_store(err);
	json_t *list = NULL;
	if (!e || !s || ctr_list(e, &list, err) < 0)
		return -EIO;
	json_int_t running = 0, paused = 0, stopped = 0;
	size_t i;
	json_t *insp;
	json_array_foreach (list, i, insp) {
		const char *st =
			json_string_value(json_object_get(json_object_get(insp, "State"), "Status"))
				?: "";
		if (!strcmp(st, "running") || !strcmp(st, "restarting"))
			running++;
		else if (!strcmp(st, "paused"))
			paused++;
		else
			stopped++;
	}
	size_t ncontainers = json_array_size(list);
	json_decref(list);
	struct image_info *images = NULL;
	size_t nimages = 0;
	if (image_store_list(s, &images, &nimages, err) < 0)
		return -EIO;
	image_info_list_free(images, nimages);
	struct utsname u;
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	_cleanup_free_ char *os = os_pretty_name();
	_cleanup_free_ char *root = realpath(berth.root, NULL);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	bool v2 = cgroup_detect_mode() == CGROUP_MODE_UNIFIED;
	json_t *info = json_object();
	json_object_set_new(info, "ID", json_string(""));
	json_object_set_new(info, "Containers", json_integer((json_int_t)ncontainers));
	json_object_set_new(info, "ContainersRunning", json_integer(running));
	json_object_set_new(info, "ContainersPaused", json_integer(paused));
	json_object_set_new(info, "ContainersStopped", json_integer(stopped));
	json_object_set_new(info, "Images", json_integer((json_int_t)nimages));
	json_object_set_new(info, "Driver", json_string("overlay2"));
	json_object_set_new(info, "DriverStatus", json_array());
	json_object_set_new(info, "LoggingDriver", json_string("json-file"));
	json_object_set_new(info, "CgroupDriver", json_string("cgroupfs"));
	json_object_set_new(info, "CgroupVersion", json_string(v2 ? "2" : "1"));
	json_object_set_new(info, "KernelVersion", json_string(u.release));
	json_object_set_new(info, "OperatingSystem", json_string(os));
	json_object_set_new(info, "OSType", json_string("linux"));
	json_object_set_new(info, "Architecture", json_string(u.machine));
	json_object_set_new(info, "NCPU", json_integer(ncpu > 0 ? ncpu : 1));
	json_object_set_new(info, "MemTotal", json_integer(mem_total()));
	json_object_set_new(info, "DockerRootDir", json_string(root ? root : berth.root));
	json_object_set_new(info, "Name", json_string(host));
	json_object_set_new(info, "Labels", json_array());
	json_object_set_new(info, "ServerVersion", json_string(BERTH_VERSION));
	json_object_set_new(info, "Debug", json_boolean(berth.debug));
	json_object_set_new(info, "ExperimentalBuild", json_false());
	json_object_set_new(info, "ClientInfo",
			    json_pack("{s:b,s:s,s:s}", "Debug", berth.debug, "Version",
				      BERTH_VERSION, "Context", "default"));
	*out = info;
	return 0;
}

int cmd_info(int argc, char **argv)
{
	int rc;
	const char *format = format_option(argc, argv, &rc);
	if (rc >= 0)
		return rc;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *info = NULL;
	if (info_json(&info, &err) < 0)
		return berth_fail(&err);
	if (format)
		return print_with_format(format, info);
#define S(k) (json_string_value(json_object_get(info, k)) ?: "")
#define I(k) ((long long)json_integer_value(json_object_get(info, k)))
	_cleanup_free_ char *mem = NULL;
	{
		/* go-units BytesSize, as docker prints Total Memory */
		double v = (double)I("MemTotal");
		static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
		size_t u = 0;
		while (v >= 1024 && u + 1 < ARRAY_SIZE(units))
			v /= 1024, u++;
		mem = xasprintf("%.4g%s", v, units[u]);
	}
	printf("Client:\n Version:    %s\n Context:    default\n Debug Mode: %s\n\n", BERTH_VERSION,
	       berth.debug ? "true" : "false");
	printf("Server:\n"
	       " Containers: %lld\n"
	       "  Running: %lld\n"
	       "  Paused: %lld\n"
	       "  Stopped: %lld\n"
	       " Images: %lld\n"
	       " Server Version: %s\n"
	       " Storage Driver: %s\n"
	       " Logging Driver: %s\n"
	       " Cgroup Driver: %s\n"
	       " Cgroup Version: %s\n"
	       " Kernel Version: %s\n"
	       " Operating System: %s\n"
	       " OSType: %s\n"
	       " Architecture: %s\n"
	       " CPUs: %lld\n"
	       " Total Memory: %s\n"
	       " Name: %s\n"
	       " Berth Root Dir: %s\n"
	       " Debug Mode: %s\n",
	       I("Containers"), I("ContainersRunning"), I("ContainersPaused"),
	       I("ContainersStopped"), I("Images"), S("ServerVersion"), S("Driver"),
	       S("LoggingDriver"), S("CgroupDriver"), S("CgroupVersion"), S("KernelVersion"),
	       S("OperatingSystem"), S("OSType"), S("Architecture"), I("NCPU"), mem, S("Name"),
	       S("DockerRootDir"), berth.debug ? "true" : "false");
#undef S
#undef I
	return 0;
}

/* ---- system prune --------------------------------------------------------- */

/* Berth has no build cache: the warning lists only what it removes. */
int cmd_system_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "volumes", no_argument, NULL, 'v' },
		{ "filter", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, force = false, volumes = false;
	int c;
	while ((c = getopt_long(argc, argv, "+af", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'f': force = true; break;
		case 'v': volumes = true; break;
		case 'F':
			return berth_usage_error(argv[0],
						 "invalid filter '%s': filters are not "
						 "supported by system prune yet",
						 optarg);
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return berth_usage_error(argv[0], "\"prune\" accepts no arguments.");
	if (!force) {
		printf("WARNING! This will remove:\n  - all stopped containers\n"
		       "  - all networks not used by at least one container\n");
		if (volumes)
			printf("  - all anonymous volumes not used by at least one container\n");
		printf(all ? "  - all images without at least one container associated to them\n"
			   : "  - all dangling images\n");
		printf("\nAre you sure you want to continue? [y/N] ");
		fflush(stdout);
		char answer[16] = "";
		if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y'))
			return 0;
	}
	berth_err err = BERTH_ERR_INIT;
	uint64_t reclaimed = 0;
	if (prune_containers(&reclaimed, &err) < 0 || prune_networks(&err) < 0 ||
	    (volumes && prune_volumes(false, &reclaimed, &err) < 0) ||
	    prune_images(all, &reclaimed, &err) < 0)
		return berth_fail(&err);
	_cleanup_free_ char *hs = human_size((double)reclaimed);
	printf("Total reclaimed space: %s\n", hs);
	return 0;
}
