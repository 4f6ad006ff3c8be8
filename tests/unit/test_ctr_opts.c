/* test_ctr_opts.c - `berth run` / `berth create` command lines and the
 * ContainerCreate body they give (the fields docker's CLI sends for them),
 * and the messages for wrong ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/ctr_opts.h"
#include "common/cleanup.h"

static struct create_request req;
static char errmsg[4096];

/* Parse a NULL-terminated command line; 0 or the error (its message in errmsg). */
static int parse(const char *first, ...)
{
	const char *argv[128];
	int argc = 0;
	va_list ap;
	va_start(ap, first);
	for (const char *a = first; a && argc < 127; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	create_request_free(&req);
	berth_err err = BERTH_ERR_INIT;
	errmsg[0] = '\0';
	int r = ctr_opts_parse(argc, (char **)argv, &req, &err);
	if (r < 0) {
		assert_non_null(err.msg);
		snprintf(errmsg, sizeof(errmsg), "%s", err.msg);
		assert_null(req.config);
	}
	berth_err_clear(&err);
	return r;
}
#define P(...) parse(__VA_ARGS__, NULL)

/* The error message of a command line that must fail with -EINVAL. */
#define ERR(...) (assert_int_equal(P(__VA_ARGS__), -EINVAL), errmsg)

static char dumped[8192];
/* A field as compact JSON with sorted keys ("<absent>" when missing). */
static const char *field(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return "<absent>";
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	snprintf(dumped, sizeof(dumped), "%s", s);
	free(s);
	return dumped;
}
#define CFG(k) field(req.config, k)
#define HC(k)  field(req.host_config, k)
#define NET(k) field(req.networking, k)

static int teardown(void **state)
{
	(void)state;
	create_request_free(&req);
	return 0;
}

static void test_defaults(void **state)
{
	(void)state;
	assert_int_equal(P("create", "busybox"), 0);
	assert_string_equal(req.image, "busybox");
	assert_null(req.name);
	assert_string_equal(req.pull, "missing");
	assert_false(req.detach);
	assert_true(req.sig_proxy);
	assert_string_equal(CFG("Image"), "\"busybox\"");
	assert_string_equal(CFG("Cmd"), "null");
	assert_string_equal(CFG("Entrypoint"), "null");
	assert_string_equal(CFG("Env"), "[]");
	assert_string_equal(CFG("Labels"), "{}");
	assert_string_equal(CFG("AttachStdin"), "false");
	assert_string_equal(CFG("AttachStdout"), "true");
	assert_string_equal(CFG("AttachStderr"), "true");
	assert_string_equal(CFG("Tty"), "false");
	assert_string_equal(CFG("OpenStdin"), "false");
	assert_string_equal(CFG("Healthcheck"), "<absent>");
	assert_string_equal(CFG("StopTimeout"), "<absent>");
	assert_string_equal(HC("NetworkMode"), "\"default\"");
	assert_string_equal(HC("RestartPolicy"), "{\"MaximumRetryCount\":0,\"Name\":\"no\"}");
	assert_string_equal(HC("LogConfig"), "{\"Config\":{},\"Type\":\"\"}");
	assert_string_equal(HC("AutoRemove"), "false");
	assert_string_equal(HC("Binds"), "null");
	assert_string_equal(HC("PortBindings"), "{}");
	assert_string_equal(HC("Memory"), "0");
	assert_string_equal(HC("MemorySwappiness"), "null");
	assert_string_equal(HC("PidsLimit"), "null");
	assert_string_equal(HC("Init"), "<absent>");
	assert_string_equal(HC("Devices"), "[]");
	assert_string_equal(NET("EndpointsConfig"), "{}");
}

static void test_command_ends_options(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--rm", "-it", "alpine:3.19", "sh", "-c", "ls -l", "--rm"), 0);
	assert_string_equal(CFG("Image"), "\"alpine:3.19\"");
	assert_string_equal(CFG("Cmd"), "[\"sh\",\"-c\",\"ls -l\",\"--rm\"]");
	assert_string_equal(HC("AutoRemove"), "true");
	assert_string_equal(CFG("Tty"), "true");
	assert_string_equal(CFG("OpenStdin"), "true");
	assert_string_equal(CFG("AttachStdin"), "true");
	assert_string_equal(CFG("StdinOnce"), "true");

	assert_int_equal(P("run", "--", "busybox", "-d"), 0);
	assert_string_equal(CFG("Cmd"), "[\"-d\"]");
	assert_false(req.detach);
}

static void test_detach_attach(void **state)
{
	(void)state;
	assert_int_equal(P("run", "-d", "-i", "--name", "web", "nginx"), 0);
	assert_true(req.detach);
	assert_string_equal(req.name, "web");
	assert_string_equal(CFG("AttachStdin"), "false");
	assert_string_equal(CFG("AttachStdout"), "false");
	assert_string_equal(CFG("AttachStderr"), "false");
	assert_string_equal(CFG("OpenStdin"), "true");
	assert_string_equal(CFG("StdinOnce"), "false");

	assert_int_equal(P("run", "-a", "stdout", "-a", "STDERR", "busybox"), 0);
	assert_string_equal(CFG("AttachStdin"), "false");
	assert_string_equal(CFG("AttachStdout"), "true");
	assert_string_equal(CFG("AttachStderr"), "true");
	assert_int_equal(P("run", "--attach=stdin", "busybox"), 0);
	assert_string_equal(CFG("AttachStdin"), "true");
	assert_string_equal(CFG("AttachStdout"), "false");

	/* create -i: stdin stays open for a later start -a, not closed after one attach */
	assert_int_equal(P("create", "-i", "busybox"), 0);
	assert_string_equal(CFG("AttachStdin"), "true");
	assert_string_equal(CFG("StdinOnce"), "false");

	assert_int_equal(P("run", "--sig-proxy=false", "--detach-keys", "ctrl-x", "busybox"), 0);
	assert_false(req.sig_proxy);
	assert_string_equal(req.detach_keys, "ctrl-x");

	assert_string_equal(ERR("run", "-d", "-a", "stdout", "busybox"),
			    "Conflicting options: -a and -d");
	assert_string_equal(ERR("run", "-a", "foo", "busybox"),
			    "valid streams are STDIN, STDOUT and STDERR");
	/* docker create has no -d */
	assert_string_equal(ERR("create", "-d", "busybox"), "unknown shorthand flag: 'd' in -d");
}

static void test_env(void **state)
{
	(void)state;
	setenv("BERTH_TEST_SET", "from caller", 1);
	unsetenv("BERTH_TEST_UNSET");
	assert_int_equal(P("run", "-e", "A=1", "--env=B=x=y", "-e", "BERTH_TEST_SET", "-e",
			   "BERTH_TEST_UNSET", "-e", "EMPTY=", "busybox"),
			 0);
	assert_string_equal(CFG("Env"),
			    "[\"A=1\",\"B=x=y\",\"BERTH_TEST_SET=from caller\",\"EMPTY=\"]");
	assert_string_equal(ERR("run", "-e", "=x", "busybox"),
			    "invalid argument \"=x\" for \"-e, --env\" flag: invalid environment "
			    "variable: =x");
}

static char *write_tmp(const char *content)
{
	char *path = strdup("/tmp/berth-ctr-opts-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void test_env_file(void **state)
{
	(void)state;
	setenv("BERTH_TEST_SET", "v", 1);
	unsetenv("BERTH_TEST_UNSET");
	_cleanup_free_ char *f = write_tmp("# comment\n\n  A=1\nB=\"quoted\" kept\n"
					   "BERTH_TEST_SET\nBERTH_TEST_UNSET\nC=\r\n");
	assert_int_equal(P("run", "-e", "A=2", "--env-file", f, "busybox"), 0);
	/* the file first, then -e, so -e wins where the container reads the last one */
	assert_string_equal(
		CFG("Env"),
		"[\"A=1\",\"B=\\\"quoted\\\" kept\",\"BERTH_TEST_SET=v\",\"C=\",\"A=2\"]");

	_cleanup_free_ char *bad = write_tmp("OK=1\nBAD NAME=2\n");
	char want[512];
	snprintf(want, sizeof(want), "%s line 2: variable 'BAD NAME' contains whitespaces", bad);
	assert_string_equal(ERR("run", "--env-file", bad, "busybox"), want);
	_cleanup_free_ char *noname = write_tmp("=2\n");
	snprintf(want, sizeof(want), "%s line 1: no variable name on line '=2'", noname);
	assert_string_equal(ERR("run", "--env-file", noname, "busybox"), want);
	assert_string_equal(ERR("run", "--env-file", "/nonexistent/env", "busybox"),
			    "open /nonexistent/env: No such file or directory");
	unlink(f);
	unlink(bad);
	unlink(noname);
}

static void test_labels(void **state)
{
	(void)state;
	_cleanup_free_ char *f = write_tmp("# labels\ncom.example.a=file\nflag\nb=2\n");
	assert_int_equal(P("create", "-l", "b=cli", "--label-file", f, "--label", "c", "busybox"),
			 0);
	assert_string_equal(CFG("Labels"),
			    "{\"b\":\"cli\",\"c\":\"\",\"com.example.a\":\"file\",\"flag\":\"\"}");
	assert_string_equal(ERR("create", "-l", "=v", "busybox"),
			    "invalid argument \"=v\" for \"-l, --label\" flag: invalid label '=v': "
			    "empty name");
	unlink(f);
}

static void test_config_strings(void **state)
{
	(void)state;
	assert_int_equal(P("run", "-w", "/src", "-u", "1000:1000", "-h", "box", "--domainname",
			   "example.com", "--entrypoint", "/bin/sh -c", "--stop-signal", "SIGINT",
			   "--stop-timeout", "30", "busybox"),
			 0);
	assert_string_equal(CFG("WorkingDir"), "\"/src\"");
	assert_string_equal(CFG("User"), "\"1000:1000\"");
	assert_string_equal(CFG("Hostname"), "\"box\"");
	assert_string_equal(CFG("Domainname"), "\"example.com\"");
	/* not split: the whole string is the program */
	assert_string_equal(CFG("Entrypoint"), "[\"/bin/sh -c\"]");
	assert_string_equal(CFG("StopSignal"), "\"SIGINT\"");
	assert_string_equal(CFG("StopTimeout"), "30");

	assert_int_equal(P("run", "--entrypoint", "", "busybox"), 0);
	assert_string_equal(CFG("Entrypoint"), "[\"\"]");
	assert_int_equal(P("run", "--entrypoint=", "busybox"), 0);
	assert_string_equal(CFG("Entrypoint"), "[\"\"]");

	assert_string_equal(
		ERR("run", "-w", "src", "busybox"),
		"the working directory 'src' is invalid, it needs to be an absolute path");
}

static void test_volumes_and_mounts(void **state)
{
	(void)state;
	assert_int_equal(P("run", "-v", "/host:/ctr:ro,Z", "-v", "data:/data", "--volume", "/anon",
			   "--tmpfs", "/run", "--tmpfs", "/tmp:rw,size=64m", "--read-only",
			   "--volumes-from", "other:ro", "busybox"),
			 0);
	assert_string_equal(HC("Binds"), "[\"/host:/ctr:ro,Z\",\"data:/data\"]");
	assert_string_equal(CFG("Volumes"), "{\"/anon\":{}}");
	assert_string_equal(HC("Tmpfs"), "{\"/run\":\"\",\"/tmp\":\"rw,size=64m\"}");
	assert_string_equal(HC("ReadonlyRootfs"), "true");
	assert_string_equal(HC("VolumesFrom"), "[\"other:ro\"]");

	char cwd[2048], want[8192];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(P("run", "-v", "./data:/data", "busybox"), 0);
	snprintf(want, sizeof(want), "[\"%s/data:/data\"]", cwd);
	assert_string_equal(HC("Binds"), want);
	assert_int_equal(
		P("run", "-v", ".:/src:ro", "-v", "./a/../b/:/b", "-v", "rel:/rel", "busybox"), 0);
	snprintf(want, sizeof(want), "[\"%s:/src:ro\",\"%s/b:/b\",\"rel:/rel\"]", cwd, cwd);
	assert_string_equal(HC("Binds"), want);

	assert_int_equal(P("run", "--mount", "type=bind,source=/src,target=/app,readonly",
			   "--mount", "type=bind,src=/a,dst=/b,bind-propagation=rshared,ro=false",
			   "--mount",
			   "src=vol,destination=/v,volume-opt=type=nfs,volume-opt=o=addr=1.2.3.4",
			   "--mount", "type=tmpfs,target=/scratch,tmpfs-size=64m,tmpfs-mode=1770",
			   "--mount", "type=volume,target=/anon,consistency=cached", "busybox"),
			 0);
	assert_string_equal(
		HC("Mounts"),
		"[{\"ReadOnly\":true,\"Source\":\"/src\",\"Target\":\"/app\",\"Type\":\"bind\"},"
		"{\"BindOptions\":{\"Propagation\":\"rshared\"},\"ReadOnly\":false,\"Source\":\"/"
		"a\","
		"\"Target\":\"/b\",\"Type\":\"bind\"},"
		"{\"Source\":\"vol\",\"Target\":\"/v\",\"Type\":\"volume\",\"VolumeOptions\":"
		"{\"DriverConfig\":{\"Options\":{\"o\":\"addr=1.2.3.4\",\"type\":\"nfs\"}}}},"
		"{\"Target\":\"/scratch\",\"TmpfsOptions\":{\"Mode\":1016,\"SizeBytes\":67108864},"
		"\"Type\":\"tmpfs\"},"
		"{\"Consistency\":\"cached\",\"Target\":\"/anon\",\"Type\":\"volume\"}]");

	assert_string_equal(
		ERR("run", "--mount", "type=bind,source=/a", "busybox"),
		"invalid argument \"type=bind,source=/a\" for \"--mount\" flag: target is "
		"required");
	assert_string_equal(
		ERR("run", "--mount", "type=bind,target=/a,colour=red", "busybox"),
		"invalid argument \"type=bind,target=/a,colour=red\" for \"--mount\" flag: "
		"unexpected key 'colour' in 'colour=red'");
	assert_string_equal(
		ERR("run", "--mount", "type=bind,target=/a,ro=maybe", "busybox"),
		"invalid argument \"type=bind,target=/a,ro=maybe\" for \"--mount\" flag: "
		"invalid value for ro: maybe");
	/* keys are case-insensitive */
	assert_int_equal(P("run", "--mount", "Type=tmpfs,Target=/t", "busybox"), 0);
	assert_string_equal(HC("Mounts"), "[{\"Target\":\"/t\",\"Type\":\"tmpfs\"}]");
	assert_string_equal(
		ERR("run", "--mount", "type=volume,target=/a,bind-propagation=shared", "busybox"),
		"invalid argument \"type=volume,target=/a,bind-propagation=shared\" for "
		"\"--mount\" flag: cannot mix 'bind-*' options with mount type 'volume'");
	assert_string_equal(ERR("run", "--mount", "type=nfs,target=/a", "busybox"),
			    "invalid argument \"type=nfs,target=/a\" for \"--mount\" flag: invalid "
			    "mount type: nfs");
	assert_string_equal(ERR("run", "--mount", "target", "busybox"),
			    "invalid argument \"target\" for \"--mount\" flag: invalid field "
			    "'target' must be a key=value pair");
	assert_string_equal(ERR("run", "--tmpfs", "run", "busybox"),
			    "invalid tmpfs destination run: must be an absolute path");
}

static void test_restart(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--restart", "on-failure:5", "busybox"), 0);
	assert_string_equal(HC("RestartPolicy"),
			    "{\"MaximumRetryCount\":5,\"Name\":\"on-failure\"}");
	assert_int_equal(P("run", "--restart=unless-stopped", "busybox"), 0);
	assert_string_equal(HC("RestartPolicy"),
			    "{\"MaximumRetryCount\":0,\"Name\":\"unless-stopped\"}");
	/* "no" is compatible with --rm */
	assert_int_equal(P("run", "--rm", "--restart", "no", "busybox"), 0);

	assert_string_equal(ERR("run", "--rm", "--restart", "always", "busybox"),
			    "Conflicting options: --restart and --rm");
	assert_string_equal(ERR("run", "--restart", "sometimes", "busybox"),
			    "invalid restart policy: unknown policy 'sometimes'; use one of 'no', "
			    "'always', 'on-failure', or 'unless-stopped'");
	assert_string_equal(ERR("run", "--restart", "always:3", "busybox"),
			    "invalid restart policy: maximum retry count can only be used with "
			    "'on-failure'");
	assert_string_equal(
		ERR("run", "--restart", "on-failure:x", "busybox"),
		"invalid restart policy format: maximum retry count must be an integer");
	assert_string_equal(ERR("run", "--restart", "on-failure:-1", "busybox"),
			    "invalid restart policy: maximum retry count cannot be negative");
	assert_string_equal(ERR("run", "--restart", ":3", "busybox"),
			    "invalid restart policy format: no policy provided before colon");
}

static void test_healthcheck(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--health-cmd", "curl -f http://localhost/ || exit 1",
			   "--health-interval", "1m30s", "--health-timeout=500ms",
			   "--health-start-period", "1.5s", "--health-start-interval", "2h",
			   "--health-retries", "3", "nginx"),
			 0);
	assert_string_equal(
		CFG("Healthcheck"),
		"{\"Interval\":90000000000,\"Retries\":3,\"StartInterval\":7200000000000,"
		"\"StartPeriod\":1500000000,\"Test\":[\"CMD-SHELL\",\"curl -f "
		"http://localhost/ || exit 1\"],\"Timeout\":500000000}");
	/* options without --health-cmd keep the image's test */
	assert_int_equal(P("run", "--health-interval", "10s", "nginx"), 0);
	assert_string_equal(CFG("Healthcheck"), "{\"Interval\":10000000000}");
	assert_int_equal(P("run", "--no-healthcheck", "nginx"), 0);
	assert_string_equal(CFG("Healthcheck"), "{\"Test\":[\"NONE\"]}");

	assert_string_equal(ERR("run", "--no-healthcheck", "--health-retries", "2", "nginx"),
			    "--no-healthcheck conflicts with --health-* options");
	assert_string_equal(ERR("run", "--health-interval", "10", "nginx"),
			    "invalid argument \"10\" for \"--health-interval\" flag: time: missing "
			    "unit in duration \"10\"");
	assert_string_equal(ERR("run", "--health-timeout", "5y", "nginx"),
			    "invalid argument \"5y\" for \"--health-timeout\" flag: time: unknown "
			    "unit \"y\" in duration \"5y\"");
	assert_string_equal(ERR("run", "--health-timeout", "abc", "nginx"),
			    "invalid argument \"abc\" for \"--health-timeout\" flag: time: invalid "
			    "duration \"abc\"");
	assert_string_equal(ERR("run", "--health-interval", "-1s", "nginx"),
			    "--health-interval cannot be negative");
	assert_string_equal(ERR("run", "--health-retries", "-1", "nginx"),
			    "--health-retries cannot be negative");
}

static void test_resources(void **state)
{
	(void)state;
	assert_int_equal(P("run", "-m", "512m", "--memory-swap", "1g", "--memory-reservation",
			   "256M", "--memory-swappiness", "10", "--kernel-memory", "50m",
			   "--oom-kill-disable", "--oom-score-adj", "-500", "--cpus", "1.5", "-c",
			   "512", "--cpu-period", "100000", "--cpu-quota", "50000", "--cpuset-cpus",
			   "0-2", "--cpuset-mems", "0", "--blkio-weight", "300", "--pids-limit",
			   "100", "--shm-size", "1.5gb", "--init", "busybox"),
			 0);
	assert_string_equal(HC("Memory"), "536870912");
	assert_string_equal(HC("MemorySwap"), "1073741824");
	assert_string_equal(HC("MemoryReservation"), "268435456");
	assert_string_equal(HC("MemorySwappiness"), "10");
	assert_string_equal(HC("KernelMemory"), "52428800");
	assert_string_equal(HC("OomKillDisable"), "true");
	assert_string_equal(HC("OomScoreAdj"), "-500");
	assert_string_equal(HC("NanoCpus"), "1500000000");
	assert_string_equal(HC("CpuShares"), "512");
	assert_string_equal(HC("CpuPeriod"), "100000");
	assert_string_equal(HC("CpuQuota"), "50000");
	assert_string_equal(HC("CpusetCpus"), "\"0-2\"");
	assert_string_equal(HC("CpusetMems"), "\"0\"");
	assert_string_equal(HC("BlkioWeight"), "300");
	assert_string_equal(HC("PidsLimit"), "100");
	assert_string_equal(HC("ShmSize"), "1610612736");
	assert_string_equal(HC("Init"), "true");

	assert_int_equal(P("run", "--memory=100", "--memory-swap", "-1", "--cpus", ".25",
			   "--init=false", "busybox"),
			 0);
	assert_string_equal(HC("Memory"), "100");
	assert_string_equal(HC("MemorySwap"), "-1");
	assert_string_equal(HC("NanoCpus"), "250000000");
	assert_string_equal(HC("Init"), "false");
	assert_int_equal(P("run", "-m", "1 GiB", "--memory-reservation", "2kb", "busybox"), 0);
	assert_string_equal(HC("Memory"), "1073741824");
	assert_string_equal(HC("MemoryReservation"), "2048");

	assert_string_equal(ERR("run", "-m", "x", "busybox"),
			    "invalid argument \"x\" for \"-m, --memory\" flag: invalid size: 'x'");
	assert_string_equal(
		ERR("run", "--memory", "12q", "busybox"),
		"invalid argument \"12q\" for \"-m, --memory\" flag: invalid size: '12q'");
	assert_string_equal(ERR("run", "--shm-size", "-1", "busybox"),
			    "invalid argument \"-1\" for \"--shm-size\" flag: invalid size: '-1'");
	assert_string_equal(
		ERR("run", "--cpus", "one", "busybox"),
		"invalid argument \"one\" for \"--cpus\" flag: failed to parse one as a "
		"rational number");
	assert_string_equal(ERR("run", "--cpus", "0.0000000001", "busybox"),
			    "invalid argument \"0.0000000001\" for \"--cpus\" flag: value is too "
			    "precise");
	assert_string_equal(ERR("run", "-c", "lots", "busybox"),
			    "invalid argument \"lots\" for \"-c, --cpu-shares\" flag: "
			    "strconv.ParseInt: parsing \"lots\": invalid syntax");
	assert_string_equal(
		ERR("run", "--pids-limit", "99999999999999999999", "busybox"),
		"invalid argument \"99999999999999999999\" for \"--pids-limit\" flag: "
		"strconv.ParseInt: parsing \"99999999999999999999\": value out of range");
	assert_string_equal(ERR("run", "--memory-swappiness", "101", "busybox"),
			    "invalid value: 101. Valid memory swappiness range is 0-100");
	assert_string_equal(ERR("run", "--blkio-weight", "5", "busybox"),
			    "Range of blkio weight is from 10 to 1000");
	assert_string_equal(ERR("run", "--oom-score-adj", "1001", "busybox"),
			    "Invalid value 1001, range for oom score adj is [-1000, 1000]");
	assert_string_equal(ERR("run", "--oom-kill-disable=maybe", "busybox"),
			    "invalid argument \"maybe\" for \"--oom-kill-disable\" flag: "
			    "strconv.ParseBool: parsing \"maybe\": invalid syntax");
}

static void test_ulimits_devices(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--ulimit", "nofile=1024:2048", "--ulimit", "core=0", "--ulimit",
			   "nproc=-1", "--ulimit", "nofile=4096", "--device", "/dev/fuse",
			   "--device", "/dev/sda:/dev/xvda:r", "--device", "/dev/snd:rw",
			   "--device-cgroup-rule", "c 42:* rmw", "busybox"),
			 0);
	assert_string_equal(HC("Ulimits"), "[{\"Hard\":0,\"Name\":\"core\",\"Soft\":0},"
					   "{\"Hard\":-1,\"Name\":\"nproc\",\"Soft\":-1},"
					   "{\"Hard\":4096,\"Name\":\"nofile\",\"Soft\":4096}]");
	assert_string_equal(
		HC("Devices"),
		"[{\"CgroupPermissions\":\"rwm\",\"PathInContainer\":\"/dev/fuse\",\"PathOnHost\":"
		"\"/dev/fuse\"},{\"CgroupPermissions\":\"r\",\"PathInContainer\":\"/dev/xvda\","
		"\"PathOnHost\":\"/dev/sda\"},{\"CgroupPermissions\":\"rw\",\"PathInContainer\":"
		"\"/dev/snd\",\"PathOnHost\":\"/dev/snd\"}]");
	assert_string_equal(HC("DeviceCgroupRules"), "[\"c 42:* rmw\"]");

	assert_string_equal(ERR("run", "--ulimit", "nofiles=1", "busybox"),
			    "invalid argument \"nofiles=1\" for \"--ulimit\" flag: invalid ulimit "
			    "type: nofiles");
	assert_string_equal(ERR("run", "--ulimit", "nofile", "busybox"),
			    "invalid argument \"nofile\" for \"--ulimit\" flag: invalid ulimit "
			    "argument: nofile");
	assert_string_equal(ERR("run", "--ulimit", "nofile=20:10", "busybox"),
			    "invalid argument \"nofile=20:10\" for \"--ulimit\" flag: ulimit soft "
			    "limit must be less than or equal to hard limit: 20 > 10");
	assert_string_equal(
		ERR("run", "--device", "sda", "busybox"),
		"invalid argument \"sda\" for \"--device\" flag: bad format for path: sda");
	assert_string_equal(
		ERR("run", "--device", "/dev/a:/dev/b:rwx", "busybox"),
		"invalid argument \"/dev/a:/dev/b:rwx\" for \"--device\" flag: bad mode "
		"specified: rwx");
	assert_string_equal(
		ERR("run", "--device-cgroup-rule", "c 42 rwm", "busybox"),
		"invalid argument \"c 42 rwm\" for \"--device-cgroup-rule\" flag: invalid "
		"device cgroup format 'c 42 rwm'");
}

static void test_security(void **state)
{
	(void)state;
	_cleanup_free_ char *profile = write_tmp("{\n  \"defaultAction\": \"SCMP_ACT_ALLOW\",\n"
						 "  \"syscalls\": []\n}\n");
	char opt[512];
	snprintf(opt, sizeof(opt), "seccomp=%s", profile);
	assert_int_equal(P("run", "--privileged", "--cap-add", "net_admin", "--cap-add",
			   "CAP_SYS_TIME", "--cap-drop", "all", "--security-opt",
			   "no-new-privileges", "--security-opt", "apparmor=unconfined",
			   "--security-opt", opt, "--security-opt", "seccomp=unconfined",
			   "--group-add", "audio", "--group-add", "1001", "busybox"),
			 0);
	assert_string_equal(HC("Privileged"), "true");
	assert_string_equal(HC("CapAdd"), "[\"CAP_NET_ADMIN\",\"CAP_SYS_TIME\"]");
	assert_string_equal(HC("CapDrop"), "[\"ALL\"]");
	assert_string_equal(
		HC("SecurityOpt"),
		"[\"no-new-privileges\",\"apparmor=unconfined\",\"seccomp={\\\"defaultAction\\\":"
		"\\\"SCMP_ACT_ALLOW\\\",\\\"syscalls\\\":[]}\",\"seccomp=unconfined\"]");
	assert_string_equal(HC("GroupAdd"), "[\"audio\",\"1001\"]");

	assert_int_equal(P("run", "--security-opt", "systempaths=unconfined", "busybox"), 0);
	assert_string_equal(HC("MaskedPaths"), "[]");
	assert_string_equal(HC("ReadonlyPaths"), "[]");
	assert_string_equal(HC("SecurityOpt"), "null");

	assert_string_equal(ERR("run", "--security-opt", "seccomp=/nonexistent.json", "busybox"),
			    "opening seccomp profile (/nonexistent.json) failed: No such file or "
			    "directory");
	_cleanup_free_ char *bad = write_tmp("{not json");
	snprintf(opt, sizeof(opt), "seccomp=%s", bad);
	assert_int_equal(P("run", "--security-opt", opt, "busybox"), -EINVAL);
	assert_non_null(strstr(errmsg, "compacting json for seccomp profile"));
	assert_string_equal(ERR("run", "--security-opt", "label", "busybox"),
			    "Invalid --security-opt: \"label\"");
	unlink(profile);
	unlink(bad);
}

static void test_namespaces(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--pid", "host", "--ipc", "container:db", "--uts", "host",
			   "--cgroupns", "private", "--userns", "host", "--cgroup-parent", "/berth",
			   "--sysctl", "net.ipv4.ip_forward=1", "--sysctl", "kernel.shmmax=1000",
			   "busybox"),
			 0);
	assert_string_equal(HC("PidMode"), "\"host\"");
	assert_string_equal(HC("IpcMode"), "\"container:db\"");
	assert_string_equal(HC("UTSMode"), "\"host\"");
	assert_string_equal(HC("CgroupnsMode"), "\"private\"");
	assert_string_equal(HC("UsernsMode"), "\"host\"");
	assert_string_equal(HC("CgroupParent"), "\"/berth\"");
	assert_string_equal(HC("Sysctls"),
			    "{\"kernel.shmmax\":\"1000\",\"net.ipv4.ip_forward\":\"1\"}");

	assert_string_equal(ERR("run", "--pid", "vm", "busybox"), "--pid: invalid PID mode");
	assert_string_equal(ERR("run", "--ipc", "container:", "busybox"),
			    "--ipc: invalid IPC mode");
	assert_string_equal(ERR("run", "--userns", "private", "busybox"),
			    "--userns: invalid USER mode");
	assert_string_equal(ERR("run", "--sysctl", "kernel.panic=1", "busybox"),
			    "invalid argument \"kernel.panic=1\" for \"--sysctl\" flag: sysctl "
			    "'kernel.panic=1' is not allowed");
}

static void test_logging(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--log-driver", "json-file", "--log-opt", "max-size=10m",
			   "--log-opt", "max-file=3", "busybox"),
			 0);
	assert_string_equal(
		HC("LogConfig"),
		"{\"Config\":{\"max-file\":\"3\",\"max-size\":\"10m\"},\"Type\":\"json-file\"}");
}

static void test_network(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--network", "backend", "--net=frontend", "--network-alias", "db",
			   "--network-alias", "pg", "--ip", "172.20.0.5", "--ip6", "fd00::5",
			   "--mac-address", "02:42:ac:11:00:02", "--dns", "1.1.1.1", "--dns",
			   "2606:4700::1111", "--dns-search", "example.com", "--dns-option",
			   "ndots:2", "--add-host", "db:10.0.0.2", "--add-host", "gw=host-gateway",
			   "--add-host", "v6:[::1]", "--hostname", "h", "postgres"),
			 0);
	assert_string_equal(HC("NetworkMode"), "\"backend\"");
	assert_string_equal(
		NET("EndpointsConfig"),
		"{\"backend\":{\"Aliases\":[\"db\",\"pg\"],\"IPAMConfig\":{\"IPv4Address\":"
		"\"172.20.0.5\",\"IPv6Address\":\"fd00::5\"},\"MacAddress\":"
		"\"02:42:ac:11:00:02\"},\"frontend\":{}}");
	assert_string_equal(HC("Dns"), "[\"1.1.1.1\",\"2606:4700::1111\"]");
	assert_string_equal(HC("DnsSearch"), "[\"example.com\"]");
	assert_string_equal(HC("DnsOptions"), "[\"ndots:2\"]");
	assert_string_equal(HC("ExtraHosts"), "[\"db:10.0.0.2\",\"gw:host-gateway\",\"v6:::1\"]");
	assert_string_equal(CFG("MacAddress"), "\"02:42:ac:11:00:02\"");

	assert_int_equal(P("run", "--network-alias", "x", "busybox"), 0);
	assert_string_equal(HC("NetworkMode"), "\"default\"");
	assert_string_equal(NET("EndpointsConfig"), "{\"default\":{\"Aliases\":[\"x\"]}}");

	/* docker's per-network syntax */
	assert_int_equal(
		P("run", "--network",
		  "name=app,alias=web,alias=www,ip=10.1.0.9,driver-opt=com.example=1", "--network",
		  "name=mgmt,ip6=fd00::9,mac-address=02:00:00:00:00:09,link-local-ip=169.254.0.9",
		  "busybox"),
		0);
	assert_string_equal(HC("NetworkMode"), "\"app\"");
	assert_string_equal(
		NET("EndpointsConfig"),
		"{\"app\":{\"Aliases\":[\"web\",\"www\"],\"DriverOpts\":{\"com.example\":\"1\"},"
		"\"IPAMConfig\":{\"IPv4Address\":\"10.1.0.9\"}},\"mgmt\":{\"IPAMConfig\":"
		"{\"IPv6Address\":\"fd00::9\",\"LinkLocalIPs\":[\"169.254.0.9\"]},"
		"\"MacAddress\":\"02:00:00:00:00:09\"}}");
	assert_string_equal(
		ERR("run", "--network", "name=app,alias=a", "--network-alias", "b", "busybox"),
		"conflicting options: cannot specify both --network-alias and per-network "
		"alias");
	assert_string_equal(
		ERR("run", "--network", "name=app,ip=10.0.0.1", "--ip", "10.0.0.2", "busybox"),
		"conflicting options: cannot specify both --ip and per-network IPv4 "
		"address");
	assert_string_equal(
		ERR("run", "--network", "alias=a", "busybox"),
		"invalid argument \"alias=a\" for \"--network\" flag: network name/id is "
		"not specified");
	assert_string_equal(
		ERR("run", "--network", "name=a,colour=red", "busybox"),
		"invalid argument \"name=a,colour=red\" for \"--network\" flag: invalid "
		"field key colour");
	assert_string_equal(ERR("run", "--network", "a", "--network", "name=a", "busybox"),
			    "network \"a\" is specified multiple times");
	assert_string_equal(ERR("run", "--network", "a", "--network", "a", "busybox"),
			    "network \"a\" is specified multiple times");
	assert_string_equal(ERR("run", "--ip", "fd00::1", "busybox"),
			    "invalid IPv4 address: fd00::1");
	assert_string_equal(ERR("run", "--mac-address", "02:42", "busybox"),
			    "02:42 is not a valid mac address");
	assert_string_equal(
		ERR("run", "--dns", "dns.google", "busybox"),
		"invalid argument \"dns.google\" for \"--dns\" flag: dns.google is not an "
		"ip address");
	assert_string_equal(ERR("run", "--add-host", "nohost", "busybox"),
			    "invalid argument \"nohost\" for \"--add-host\" flag: bad format for "
			    "add-host: \"nohost\"");
	assert_string_equal(ERR("run", "--add-host", "h:not-an-ip", "busybox"),
			    "invalid argument \"h:not-an-ip\" for \"--add-host\" flag: invalid IP "
			    "address in add-host: \"not-an-ip\"");
}

static void test_ports(void **state)
{
	(void)state;
	assert_int_equal(P("run", "-p", "8080:80", "-p", "127.0.0.1:5353:53/udp", "-p", "443",
			   "--publish", "127.0.0.1::9000", "-p", "[::1]:2222:22", "-p",
			   "7000-7001:7000-7001", "-p", "8000-8002:3000", "--expose", "9100",
			   "--expose", "6000-6001/udp", "-P", "nginx"),
			 0);
	assert_string_equal(HC("PortBindings"),
			    "{\"22/tcp\":[{\"HostIp\":\"::1\",\"HostPort\":\"2222\"}],"
			    "\"3000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8000-8002\"}],"
			    "\"443/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}],"
			    "\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"5353\"}],"
			    "\"7000/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7000\"}],"
			    "\"7001/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"7001\"}],"
			    "\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}],"
			    "\"9000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}]}");
	assert_string_equal(CFG("ExposedPorts"),
			    "{\"22/tcp\":{},\"3000/tcp\":{},\"443/tcp\":{},\"53/udp\":{},"
			    "\"6000/udp\":{},\"6001/udp\":{},\"7000/tcp\":{},\"7001/tcp\":{},"
			    "\"80/tcp\":{},\"9000/tcp\":{},\"9100/tcp\":{}}");
	assert_string_equal(HC("PublishAllPorts"), "true");

	/* the same container port published twice keeps both bindings */
	assert_int_equal(P("run", "-p", "80:80", "-p", "8080:80", "nginx"), 0);
	assert_string_equal(HC("PortBindings"),
			    "{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"80\"},"
			    "{\"HostIp\":\"\",\"HostPort\":\"8080\"}]}");

	assert_int_equal(P("run", "-p", "target=53,published=5353,protocol=udp,mode=host", "-p",
			   "target=80", "nginx"),
			 0);
	assert_string_equal(HC("PortBindings"),
			    "{\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"5353\"}],"
			    "\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"\"}]}");
	assert_string_equal(ERR("run", "-p", "target=80,oops", "nginx"),
			    "invalid publish opts format (should be name=value but got 'oops')");
	assert_string_equal(ERR("run", "-p", "80:http", "nginx"), "invalid containerPort: http");
	assert_string_equal(ERR("run", "-p", "99999:80", "nginx"), "invalid hostPort: 99999");
	assert_string_equal(ERR("run", "-p", "80/icmp", "nginx"), "invalid proto: icmp");
	assert_string_equal(ERR("run", "-p", "1.2.3:80:80", "nginx"), "invalid IP address: 1.2.3");
	assert_string_equal(ERR("run", "-p", "8000-8001:80-82", "nginx"),
			    "invalid ranges specified for container and host Ports: 80-82 and "
			    "8000-8001");
	assert_string_equal(ERR("run", "--expose", "http", "nginx"),
			    "invalid range format for --expose: http");
}

static void test_request_fields(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--platform", "linux/arm64", "--pull", "always", "-q",
			   "--cidfile", "/tmp/cid", "--isolation", "default", "--runtime", "runc",
			   "busybox"),
			 0);
	assert_string_equal(req.platform, "linux/arm64");
	assert_string_equal(req.pull, "always");
	assert_true(req.quiet);
	assert_string_equal(req.cidfile, "/tmp/cid");
	assert_string_equal(HC("ContainerIDFile"), "\"/tmp/cid\"");
	assert_string_equal(HC("Isolation"), "\"default\"");
	assert_string_equal(HC("Runtime"), "\"runc\"");
	assert_string_equal(
		ERR("run", "--pull", "sometimes", "busybox"),
		"invalid pull option: 'sometimes': must be one of \"always\", \"missing\" "
		"or \"never\"");
}

static void test_more_flags(void **state)
{
	(void)state;
	assert_int_equal(P("run", "--volume-driver", "local", "--link", "db:database", "--link",
			   "cache", "--link-local-ip", "169.254.1.1", "--storage-opt", "size=10G",
			   "--annotation", "com.example.k=v", "--cpu-rt-period", "1000000",
			   "--cpu-rt-runtime", "950000", "--blkio-weight-device", "/dev/sda:200",
			   "--device-read-bps", "/dev/sda:1mb", "--device-write-bps", "/dev/sdb:10",
			   "--device-read-iops", "/dev/sda:1000", "--device-write-iops",
			   "/dev/sda:500", "--disable-content-trust", "busybox"),
			 0);
	assert_string_equal(HC("VolumeDriver"), "\"local\"");
	assert_string_equal(HC("Links"), "[\"db:database\",\"cache\"]");
	assert_string_equal(NET("EndpointsConfig"),
			    "{\"default\":{\"IPAMConfig\":{\"LinkLocalIPs\":[\"169.254.1.1\"]}}}");
	assert_string_equal(HC("StorageOpt"), "{\"size\":\"10G\"}");
	assert_string_equal(HC("Annotations"), "{\"com.example.k\":\"v\"}");
	assert_string_equal(HC("CpuRealtimePeriod"), "1000000");
	assert_string_equal(HC("CpuRealtimeRuntime"), "950000");
	assert_string_equal(HC("BlkioWeightDevice"), "[{\"Path\":\"/dev/sda\",\"Weight\":200}]");
	assert_string_equal(HC("BlkioDeviceReadBps"), "[{\"Path\":\"/dev/sda\",\"Rate\":1048576}]");
	assert_string_equal(HC("BlkioDeviceWriteBps"), "[{\"Path\":\"/dev/sdb\",\"Rate\":10}]");
	assert_string_equal(HC("BlkioDeviceReadIOps"), "[{\"Path\":\"/dev/sda\",\"Rate\":1000}]");
	assert_string_equal(HC("BlkioDeviceWriteIOps"), "[{\"Path\":\"/dev/sda\",\"Rate\":500}]");

	assert_string_equal(ERR("run", "--blkio-weight-device", "/dev/sda:5", "busybox"),
			    "invalid argument \"/dev/sda:5\" for \"--blkio-weight-device\" flag: "
			    "invalid weight for device: /dev/sda:5. The correct format is "
			    "<device-path>:<number>, number between 10 and 1000");
	assert_string_equal(
		ERR("run", "--device-read-bps", "/dev/sda:fast", "busybox"),
		"invalid argument \"/dev/sda:fast\" for \"--device-read-bps\" flag: "
		"invalid rate for device: /dev/sda:fast. The correct format is "
		"<device-path>:<number>[<unit>]. Number must be a positive integer. Unit "
		"is optional and can be kb, mb, or gb");
	assert_string_equal(ERR("run", "--device-write-iops", "sda:5", "busybox"),
			    "invalid argument \"sda:5\" for \"--device-write-iops\" flag: bad "
			    "format for device path: sda:5");
}

static void test_usage_errors(void **state)
{
	(void)state;
	assert_string_equal(ERR("run"), "\"berth run\" requires at least 1 argument.");
	assert_string_equal(ERR("create", "--rm"),
			    "\"berth create\" requires at least 1 argument.");
	assert_string_equal(ERR("run", "--xyz", "busybox"), "unknown flag: --xyz");
	assert_string_equal(ERR("run", "--xyz=1", "busybox"), "unknown flag: --xyz");
	/* no abbreviations, unlike getopt */
	assert_string_equal(ERR("run", "--na", "x", "busybox"), "unknown flag: --na");
	assert_string_equal(ERR("run", "-itZ", "busybox"), "unknown shorthand flag: 'Z' in -itZ");
	assert_int_equal(P("run", "busybox", "--name"), 0);
	assert_string_equal(CFG("Cmd"), "[\"--name\"]");
	assert_string_equal(ERR("run", "--name"), "flag needs an argument: --name");
	assert_string_equal(ERR("run", "-m"), "flag needs an argument: 'm' in -m");
	assert_string_equal(ERR("run", "-itm"), "flag needs an argument: 'm' in -itm");
	/* a short flag's value may be glued on, as with pflag */
	assert_int_equal(P("run", "-m512m", "-eA=1", "-p8080:80", "busybox"), 0);
	assert_string_equal(HC("Memory"), "536870912");
	assert_string_equal(CFG("Env"), "[\"A=1\"]");
	/* a second parse starts afresh */
	assert_int_equal(P("run", "-it", "busybox"), 0);
	assert_string_equal(CFG("Tty"), "true");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_defaults, teardown),
		cmocka_unit_test_teardown(test_command_ends_options, teardown),
		cmocka_unit_test_teardown(test_detach_attach, teardown),
		cmocka_unit_test_teardown(test_env, teardown),
		cmocka_unit_test_teardown(test_env_file, teardown),
		cmocka_unit_test_teardown(test_labels, teardown),
		cmocka_unit_test_teardown(test_config_strings, teardown),
		cmocka_unit_test_teardown(test_volumes_and_mounts, teardown),
		cmocka_unit_test_teardown(test_restart, teardown),
		cmocka_unit_test_teardown(test_healthcheck, teardown),
		cmocka_unit_test_teardown(test_resources, teardown),
		cmocka_unit_test_teardown(test_ulimits_devices, teardown),
		cmocka_unit_test_teardown(test_security, teardown),
		cmocka_unit_test_teardown(test_namespaces, teardown),
		cmocka_unit_test_teardown(test_logging, teardown),
		cmocka_unit_test_teardown(test_network, teardown),
		cmocka_unit_test_teardown(test_ports, teardown),
		cmocka_unit_test_teardown(test_request_fields, teardown),
		cmocka_unit_test_teardown(test_more_flags, teardown),
		cmocka_unit_test_teardown(test_usage_errors, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
