/* ctr_start.c - starting a container under its monitor.
 *
 * The caller (the CLI, or a monitor's exit command restarting a container)
 * prepares the container's files: its directories, /etc/hosts, hostname and
 * resolv.conf, the overlay mount of its image layers and upper dir, volume
 * copy-up, and the runtime spec. Then a child, the future monitor:
 *   - becomes a session leader and takes monitor.lock,
 *   - listens on attach.sock, makes the stdio pipes (or the pty),
 *   - creates the container in-process (src/oci), so its init is a child,
 *   - reports "ready", waits for "go" (the CLI attaches in between, so no
 *     output is lost), starts the container, reports its pid,
 *   - and execs berth-monitor with the descriptors in place.
 * The status pipe carries one line a step: "R", "S PID", or "E message".
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "engine/mounts.h"
#include "engine/spec_gen.h"
#include "image/store.h"
#include "monitor/attach_proto.h"
#include "oci/container.h"
#include "oci/state.h"

struct start_plan {
	char *id;
	char *dir; /* ROOT/containers/ID */
	char *run; /* RUNROOT/containers/ID */
	bool tty, open_stdin, stdin_once, log_on;
	long long log_max_size;
	int log_max_file;
	char *log_path;
	char **exit_argv;
	json_t *spec;    /* the runtime spec, handed to the runtime in memory */
	struct ctr_net_plan net;
	char health[64]; /* the monitor's HEALTH argument */
};

static void plan_free(struct start_plan *p)
{
	free(p->id);
	free(p->dir);
	free(p->run);
	free(p->log_path);
	strv_free(p->exit_argv);
	json_decref(p->spec);
	ctr_net_plan_free(&p->net);
}

/* Docker's json-file sizes: a number with an optional k, m or g (binary units). */
static long long parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	long long mult = 1;
	switch (*end | 0x20) {
	case 'k': mult = 1024; break;
	case 'm': mult = 1024 * 1024; break;
	case 'g': mult = 1024LL * 1024 * 1024; break;
	default: break;
	}
	return end == s || v < 0 ? -1 : (long long)(v * (double)mult);
}

static int plan_log(struct start_plan *p, json_t *host_config, berth_err *err)
{
	json_t *lc = json_object_get(host_config, "LogConfig");
	const char *type = json_string_value(json_object_get(lc, "Type"));
	json_t *cfg = json_object_get(lc, "Config");
	p->log_on = !type || !*type || !strcmp(type, "json-file");
	if (!p->log_on && strcmp(type, "none") != 0)
		return berth_error_code(err, EINVAL,
					"logger: no log driver named '%s' is registered", type);
	/* Berth's default rotates (10 MiB x 3): a chatty container cannot fill the disk. */
	const char *ms = json_string_value(json_object_get(cfg, "max-size"));
	const char *mf = json_string_value(json_object_get(cfg, "max-file"));
	p->log_max_size = ms ? parse_size(ms) : 10 * 1024 * 1024;
	p->log_max_file = mf ? atoi(mf) : 3;
	if (p->log_max_size < 0)
		return berth_error_code(err, EINVAL, "invalid log option max-size: %s", ms);
	if (p->log_max_file < 1)
		return berth_error_code(err, EINVAL, "invalid log option max-file: %s", mf);
	return 0;
}

/* /etc/hosts, /etc/hostname and /etc/resolv.conf as Docker writes them:
 * made again at every start, so they need no fsync on its path. */
static int write_etc_files(struct engine *e, struct ctr_row *row, const char *hostname,
			   bool host_net, struct ctr_net_plan *net, berth_err *err)
{
	_cleanup_free_ char *dir = ctr_dir(e, row->id);
	_cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return berth_error_errno(err, "cannot open %s", dir);
	struct strbuf sb;
	strbuf_init(&sb, 256);
	strbuf_addf(&sb, "%s\n", hostname);
	int r = file_write_atomic_flags(fd, "hostname", sb.buf, sb.len, 0644, FILE_NO_SYNC, err);
	strbuf_reset(&sb);
	if (r < 0)
		goto out;
	_cleanup_free_ char *hosts = NULL, *resolv = NULL;
	size_t len = 0;
	if (host_net && file_read("/etc/hosts", &hosts, &len, NULL) == 0) {
		strbuf_add(&sb, hosts, len);
	} else {
		strbuf_addstr(
			&sb,
			"127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
			"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
			"ff02::2\tip6-allrouters\n");
	}
	size_t i;
	json_t *h;
	json_array_foreach (json_object_get(row->host_config, "ExtraHosts"), i, h) {
		const char *s = json_string_value(h);
		const char *sep = s ? strpbrk(s, ":=") : NULL;
		const char *ip = sep ? sep + 1 : NULL;
		if (ip && !strcmp(ip, "host-gateway")) /* the bridge's address, as Docker */
			ip = net->n > 0 && net->eps[0].lease.gateway ? net->eps[0].lease.gateway
								     : "127.0.0.1";
		if (ip)
			strbuf_addf(&sb, "%s\t%.*s\n", ip, (int)(sep - s), s);
	}
	ctr_net_hosts(net, hostname, &sb);
	if ((r = file_write_atomic_flags(fd, "hosts", sb.buf, sb.len, 0644, FILE_NO_SYNC, err)) < 0)
		goto out;
	strbuf_reset(&sb);
	json_t *dns = json_object_get(row->host_config, "Dns");
	json_t *search = json_object_get(row->host_config, "DnsSearch");
	json_t *opts = json_object_get(row->host_config, "DnsOptions");
	size_t nservers = 0;
	/* On a user network, its DNS responder answers (and forwards the rest). */
	const char *own = json_array_size(dns) == 0 ? ctr_net_resolver(net) : NULL;
	if (own) {
		strbuf_addf(&sb, "nameserver %s\n", own);
		nservers++;
	}
	if (json_array_size(dns) > 0) {
		json_array_foreach (dns, i, h) {
			strbuf_addf(&sb, "nameserver %s\n", json_string_value(h) ?: "");
			nservers++;
		}
	}
	if (file_read("/etc/resolv.conf", &resolv, &len, NULL) == 0) {
		char *save = NULL;
		for (char *line = strtok_r(resolv, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			bool ns = !strncmp(line, "nameserver", 10);
			bool sr = !strncmp(line, "search", 6) || !strncmp(line, "domain", 6);
			bool op = !strncmp(line, "options", 7);
			if (ns && (json_array_size(dns) > 0 || own ||
				   (!host_net && (strstr(line, " 127.") || strstr(line, " ::1")))))
				continue; /* a loopback resolver is not reachable from the container
					   */
			if ((sr && json_array_size(search) > 0) ||
			    (op && json_array_size(opts) > 0))
				continue;
			if (ns)
				nservers++;
			strbuf_addf(&sb, "%s\n", line);
		}
	}
	if (nservers == 0) /* Docker's fallback */
		strbuf_addstr(&sb, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n");
	if (json_array_size(search) > 0) {
		strbuf_addstr(&sb, "search");
		json_array_foreach (search, i, h)
			strbuf_addf(&sb, " %s", json_string_value(h) ?: "");
		strbuf_addch(&sb, '\n');
	}
	if (json_array_size(opts) > 0) {
		strbuf_addstr(&sb, "options");
		json_array_foreach (opts, i, h)
			strbuf_addf(&sb, " %s", json_string_value(h) ?: "");
		strbuf_addch(&sb, '\n');
	}
	r = file_write_atomic_flags(fd, "resolv.conf", sb.buf, sb.len, 0644, FILE_NO_SYNC, err);
out:
	strbuf_release(&sb);
	return r;
}

static bool mode_is(json_t *hc, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(hc, key));
	return v && !strcmp(v, want);
}

/* The overlay: image layers below (relative to layers/, so that many fit in
 * a page of mount options), the container's upper dir on top. */
int ctr_mount_rootfs(struct engine *e, struct ctr_row *row, const char *dir, const char *rootfs,
		     berth_err *err)
{
	_cleanup_strv_ char **lower = image_store_layer_dirs(e->store, row->image_id, err);
	if (!lower)
		return -EIO;
	_cleanup_free_ char *layers = xasprintf("%s/layers", e->root);
	size_t skip = strlen(layers) + 1;
	struct strbuf sb;
	strbuf_init(&sb, 256);
	strbuf_addstr(&sb, "lowerdir=");
	for (size_t i = 0; lower[i]; i++) {
		if (i)
			strbuf_addch(&sb, ':');
		strbuf_addstr(&sb,
			      strncmp(lower[i], layers, skip - 1) ? lower[i] : lower[i] + skip);
	}
	if (!lower[0]) { /* an image without layers: an empty lower dir */
		_cleanup_free_ char *empty = xasprintf("%s/empty", dir);
		mkdir(empty, 0755);
		strbuf_addstr(&sb, empty);
	}
	strbuf_addf(&sb, ",upperdir=%s/upper,workdir=%s/work,index=off", dir, dir);
	_cleanup_close_ int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r = 0;
	if (chdir(layers) < 0)
		r = berth_error_errno(err, "cannot enter %s", layers);
	else if (mount("overlay", rootfs, "overlay", 0, sb.buf) < 0)
		r = berth_error_errno(err, "cannot mount the container's filesystem at %s", rootfs);
	if (cwd >= 0 && fchdir(cwd) < 0)
		r = r ? r : berth_error_errno(err, "cannot return to the working directory");
	strbuf_release(&sb);
	return r;
}

/* --ipc shareable: /dev/shm is a tmpfs on the host (ROOT/containers/ID/shm),
 * so that containers joining its IPC namespace can bind it too. */
static int mount_shareable_shm(struct engine *e, struct ctr_row *row, berth_err *err)
{
	if (!mode_is(row->host_config, "IpcMode", "shareable"))
		return 0;
	_cleanup_free_ char *shm = ctr_shm_path(e, row->id);
	json_int_t size = json_integer_value(json_object_get(row->host_config, "ShmSize"));
	_cleanup_free_ char *opts =
		xasprintf("mode=1777,size=%lld", (long long)(size > 0 ? size : 64LL << 20));
	if (mkdir(shm, 0755) < 0 && errno != EEXIST)
		return berth_error_errno(err, "cannot create %s", shm);
	if (mount("shm", shm, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, opts) < 0)
		return berth_error_errno(err, "cannot mount the shareable /dev/shm at %s", shm);
	return 0;
}

/* --network/--pid/--ipc container:X: the namespace of X's init, which must run. */
static int joined_ns(struct engine *e, json_t *host_config, const char *key, const char *ns,
		     const char *what, char **path, char **shm, berth_err *err)
{
	const char *mode = json_string_value(json_object_get(host_config, key));
	if (!mode || strncmp(mode, "container:", 10) != 0)
		return 0;
	_cleanup_free_ char *id = NULL;
	_cleanup_ctr_row_ struct ctr_row other = { 0 };
	int r;
	if ((r = ctr_resolve(e, mode + 10, &id, err)) < 0 ||
	    (r = ctr_row_load(e, id, &other, err)) < 0 || (r = ctr_refresh(e, &other, err)) < 0)
		return r;
	pid_t pid = (pid_t)json_integer_value(json_object_get(other.state, "Pid"));
	const char *st = json_string_value(json_object_get(other.state, "Status")) ?: "";
	if (!other.id || strcmp(st, "running") != 0 || pid <= 0)
		return berth_error_code(err, EINVAL,
					"cannot join %s of a non running container: %s", what,
					mode + 10);
	if (shm) {
		/* Its /dev/shm is only reachable when it lives on the host (shareable). */
		if (!mode_is(other.host_config, "IpcMode", "shareable"))
			return berth_error_code(err, EINVAL,
						"cannot join IPC of container %s: non-shareable "
						"IPC (hint: use --ipc "
						"shareable for the donor container)",
						mode + 10);
		*shm = ctr_shm_path(e, other.id);
	}
	*path = xasprintf("/proc/%d/ns/%s", (int)pid, ns);
	return 0;
}

static json_t *ctr_spec(struct engine *e, struct ctr_row *row, struct start_plan *p,
			json_t *image_config, const char *rootfs, const char *hostname,
			berth_err *err)
{
	_cleanup_free_ char *netns = NULL, *pidns = NULL, *ipcns = NULL, *shm = NULL;
	if (joined_ns(e, row->host_config, "NetworkMode", "net", "network", &netns, NULL, err) <
		    0 ||
	    joined_ns(e, row->host_config, "PidMode", "pid", "PID namespace", &pidns, NULL, err) <
		    0 ||
	    joined_ns(e, row->host_config, "IpcMode", "ipc", "IPC namespace", &ipcns, &shm, err) <
		    0)
		return NULL;
	if (mode_is(row->host_config, "IpcMode", "shareable"))
		shm = ctr_shm_path(e, row->id);
	json_t *config = json_deep_copy(row->config);
	json_object_set_new(config, "Hostname", json_string(hostname));
	_cleanup_free_ char *hosts = xasprintf("%s/hosts", p->dir),
			    *hn = xasprintf("%s/hostname", p->dir),
			    *resolv = xasprintf("%s/resolv.conf", p->dir);
	_cleanup_free_ char *cgpath = ctr_cgroup_path(row->id);
	struct spec_gen_ctx ctx = {
		.id = row->id,
		.rootfs = rootfs,
		.mounts = row->mounts,
		.hosts_path = hosts,
		.hostname_path = hn,
		.resolv_path = resolv,
		.init_path = e->init,
		.cgroups_path = cgpath,
		.netns_path = netns,
		.pidns_path = pidns,
		.ipcns_path = ipcns,
		.shm_path = shm,
	};
	json_t *spec = NULL;
	spec_generate(config, row->host_config, image_config, &ctx, &spec, err);
	json_decref(config);
	return spec;
}

/* The caller's half: files, mount, spec. On failure nothing stays mounted. */
static int prepare(struct engine *e, struct ctr_row *row, struct start_plan *p, berth_err *err)
{
	int r;
	p->id = xstrdup(row->id);
	p->dir = ctr_dir(e, row->id);
	p->run = ctr_rundir(e, row->id);
	p->log_path = ctr_log_path(e, row->id);
	p->tty = json_is_true(json_object_get(row->config, "Tty"));
	p->open_stdin = json_is_true(json_object_get(row->config, "OpenStdin"));
	p->stdin_once = json_is_true(json_object_get(row->config, "StdinOnce"));
	health_schedule(row->config, p->health, sizeof(p->health));
	if ((r = plan_log(p, row->host_config, err)) < 0)
		return r;
	_cleanup_free_ char *upper = xasprintf("%s/upper", p->dir),
			    *work = xasprintf("%s/work", p->dir);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", p->run);
	if ((r = mkdir_parents(upper, 0755)) < 0 || (r = mkdir_parents(work, 0700)) < 0 ||
	    (r = mkdir_parents(rootfs, 0755)) < 0)
		return berth_error(err, -r, "cannot create the directories of container %s",
				   row->id);
	bool host_net = mode_is(row->host_config, "NetworkMode", "host");
	char hostname[256] = "";
	const char *cfg_host = json_string_value(json_object_get(row->config, "Hostname"));
	if (cfg_host && *cfg_host)
		snprintf(hostname, sizeof(hostname), "%s", cfg_host);
	else if (host_net)
		gethostname(hostname, sizeof(hostname) - 1);
	else
		snprintf(hostname, sizeof(hostname), "%.12s", row->id);
	_cleanup_json_ json_t *image_config = engine_image_config(e, row->image_id, err);
	if (!image_config)
		return -EINVAL;
	if ((r = ctr_net_prepare(e, row, image_config, &p->net, err)) < 0 ||
	    (r = write_etc_files(e, row, hostname, host_net, &p->net, err)) < 0)
		return r;
	if ((r = ctr_mount_rootfs(e, row, p->dir, rootfs, err)) < 0)
		return r;
	if ((r = mount_shareable_shm(e, row, err)) < 0) {
		umount2(rootfs, MNT_DETACH);
		return r;
	}
	if ((r = mounts_copy_up(row->mounts, rootfs, err)) < 0 ||
	    !(p->spec = ctr_spec(e, row, p, image_config, rootfs, hostname, err))) {
		umount2(rootfs, MNT_DETACH);
		return r < 0 ? r : -EINVAL;
	}
	strv_push(&p->exit_argv, e->self);
	for (size_t i = 0; e->global_args[i]; i++)
		strv_push(&p->exit_argv, e->global_args[i]);
	strv_push(&p->exit_argv, "container");
	strv_push(&p->exit_argv, "cleanup");
	strv_push(&p->exit_argv, row->id);
	return 0;
}

static void report(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(int fd, const char *fmt, ...)
{
	if (fd < 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	vdprintf(fd, fmt, ap);
	va_end(ap);
}

/* Put fd at target (clearing close-on-exec); fd < 0 leaves target closed. */
static void place_fd(int fd, int target)
{
	if (fd < 0)
		close(target);
	else if (fd != target)
		dup2(fd, target);
	else
		fcntl(fd, F_SETFD, 0);
}

static int high_dup(int fd)
{
	if (fd < 0)
		return -1;
	int h = fcntl(fd, F_DUPFD_CLOEXEC, 64);
	close(fd);
	return h;
}

/* The monitor's half: from a fresh child (or the restarting exit command)
 * to berth-monitor. status: the status pipe's write end, or -1; go: its
 * "go" pipe's read end, or -1 (start at once); lock: monitor.lock when held
 * already, or -1. Does not return. */
static void __attribute__((noreturn))
become_monitor(struct engine *e, struct start_plan *p, int status, int go, int lock)
{
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *lockp = xasprintf("%s/monitor.lock", p->run);
	char console[64] = "";
	int rundir_fd = -1;
	_cleanup_free_ char *exitf = xasprintf("%s/exit", p->run);
	int out[2] = { -1, -1 }, errp[2] = { -1, -1 }, in[2] = { -1, -1 }, csock = -1, master = -1;
	int listen_fd = -1;
	bool created = false;
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	if (lock < 0) {
		lock = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (lock < 0 || flock(lock, LOCK_EX) < 0) {
			berth_error_errno(&err, "cannot lock %s", lockp);
			goto fail;
		}
	}
	unlink(exitf);
	if ((listen_fd = ctr_sock_listen(p->run, "attach.sock", SOCK_SEQPACKET, &err)) < 0)
		goto fail;
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (p->tty) {
		/* The pty master comes over a stream socket (the runtime's contract). */
		if ((csock = ctr_sock_listen(p->run, "console.sock", SOCK_STREAM, &err)) < 0)
			goto fail;
		rundir_fd = open(p->run, O_PATH | O_DIRECTORY | O_CLOEXEC);
		snprintf(console, sizeof(console), "/proc/self/fd/%d/console.sock", rundir_fd);
		dup2(devnull, 0);
		dup2(devnull, 1);
		dup2(devnull, 2);
	} else {
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 ||
		    (p->open_stdin && pipe2(in, O_CLOEXEC) < 0)) {
			berth_error_errno(&err, "pipe");
			goto fail;
		}
		dup2(p->open_stdin ? in[0] : devnull, 0);
		dup2(out[1], 1);
		dup2(errp[1], 2);
		close(out[1]);
		close(errp[1]);
		if (in[0] >= 0)
			close(in[0]);
	}
	struct create_opts co = {
		.root = e->runtime_root,
		.id = p->id,
		.bundle = p->run,
		.spec = p->spec,
		.console_socket = p->tty ? console : NULL,
	};
	if (container_create(&co, &err) < 0)
		goto fail;
	created = true;
	/* Its pid now: once started it may be gone before anyone asks. */
	_cleanup_json_ json_t *st = NULL;
	pid_t pid = 0;
	if (container_state(e->runtime_root, p->id, &st, &err) < 0)
		goto fail;
	pid = (pid_t)json_integer_value(json_object_get(st, "pid"));
	if (ctr_net_attach(p->id, &p->net, pid, &err) < 0)
		goto fail;
	if (p->tty) {
		int c = accept4(csock, NULL, NULL, SOCK_CLOEXEC);
		char name[64];
		if (c < 0 || fd_recv(c, &master, name, sizeof(name)) < 0 || master < 0) {
			berth_error_errno(&err, "receiving the container's terminal");
			goto fail;
		}
		close(c);
		close(csock);
		csock = -1;
		unlink(console);
		close(rundir_fd);
	}
	dup2(devnull, 0);
	dup2(devnull, 1);
	dup2(devnull, 2);
	report(status, "R\n");
	if (go >= 0) {
		char g = 0;
		while (read(go, &g, 1) < 0 && errno == EINTR)
			;
		close(go);
		if (g == 'A') {
			berth_error_code(&err, ECANCELED, "start cancelled");
			goto fail;
		}
	}
	if (container_start(e->runtime_root, p->id, &err) < 0)
		goto fail;
	report(status, "S %d\n", (int)pid);

	/* Descriptors to their places (monitor.c), everything else closed. */
	lock = high_dup(lock);
	listen_fd = high_dup(listen_fd);
	int o5 = high_dup(p->tty ? master : out[0]);
	int o6 = high_dup(p->tty ? -1 : errp[0]);
	int o7 = high_dup(p->tty ? -1 : in[1]);
	place_fd(lock, 3);
	place_fd(listen_fd, 4);
	place_fd(o5, 5);
	place_fd(o6, 6);
	place_fd(o7, 7);
	close_range(8, ~0U, 0);
	char flags[8] = "", maxs[32], maxf[16], pids[16];
	if (p->tty)
		strcat(flags, "t");
	if (p->stdin_once)
		strcat(flags, "n");
	if (p->log_on)
		strcat(flags, "l");
	snprintf(maxs, sizeof(maxs), "%lld", p->log_max_size);
	snprintf(maxf, sizeof(maxf), "%d", p->log_max_file);
	snprintf(pids, sizeof(pids), "%d", (int)pid);
	size_t n = strv_length(p->exit_argv);
	char **argv = xcalloc(n + 12, sizeof(char *));
	const char *head[] = { "berth-monitor", p->id, exitf,     p->log_path, maxs, maxf,
			       flags,           pids,  p->health, "--" };
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		argv[i] = (char *)head[i];
	for (size_t i = 0; i < n; i++)
		argv[ARRAY_SIZE(head) + i] = p->exit_argv[i];
	execv(e->monitor, argv);
	/* No monitor: the container cannot be watched; take it down again. */
	berth_error_errno(&err, "cannot run %s", e->monitor);
	container_kill(e->runtime_root, p->id, SIGKILL, true, NULL);
	_exit(1);
fail:
	if (created)
		container_delete(e->runtime_root, p->id, true, NULL);
	_cleanup_free_ char *rootfs = xasprintf("%s/rootfs", p->run);
	umount2(rootfs, MNT_DETACH);
	report(status, "E %s\n", err.msg ? err.msg : "cannot start the container");
	_exit(1);
}

/* One line from the status pipe: 'R', 'S' (*pid) or 'E' (err); 0 at EOF. */
static int read_status(FILE *f, pid_t *pid, berth_err *err)
{
	_cleanup_free_ char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	if (n <= 0)
		return 0;
	if (line[n - 1] == '\n')
		line[n - 1] = 0;
	if (line[0] == 'E') {
		berth_error_code(err, EIO, "%s", line + 2);
		return 'E';
	}
	if (line[0] == 'S' && pid)
		*pid = (pid_t)atol(line + 2);
	return line[0];
}

static void record_started(struct ctr_row *row, pid_t pid)
{
	ctr_set_state(row, "running");
	json_object_set_new(row->state, "Pid", json_integer(pid));
	json_object_set_new(row->state, "ExitCode", json_integer(0));
	json_object_set_new(row->state, "Error", json_string(""));
	json_object_set_new(row->state, "OOMKilled", json_false());
	char *now = engine_now_rfc3339();
	json_object_set_new(row->state, "StartedAt", json_string(now));
	free(now);
	row->user_stopped = false;
	json_t *h = health_initial(row->config);
	if (h)
		json_object_set_new(row->state, "Health", h);
	else
		json_object_del(row->state, "Health");
}

int ctr_start(struct engine *e, const char *id, const struct ctr_start_opts *o, int *attach_fd,
	      berth_err *err)
{
	_cleanup_close_ int lock = ctr_lock(e, id, err);
	if (lock < 0)
		return lock;
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	if (!row.id)
		return berth_error_code(err, ENOENT, "No such container: %s", id);
	const char *status = json_string_value(json_object_get(row.state, "Status"));
	if (status && (!strcmp(status, "running") || !strcmp(status, "restarting")) &&
	    ctr_monitor_alive(e, row.id)) {
		if (o->attach)
			return berth_error_code(err, EBUSY, "container %s is already running",
						row.name);
		return 0;
	}
	if (status && !strcmp(status, "paused"))
		return berth_error_code(err, EBUSY,
					"cannot start a paused container, try unpause instead");
	/* Whatever a killed start or monitor left: all of it lives under the run
	 * dir (made first by prepare()), so a container never started has none. */
	_cleanup_free_ char *run = ctr_rundir(e, row.id);
	if (access(run, F_OK) == 0)
		ctr_cleanup(e, &row, NULL);
	struct start_plan p = { 0 };
	if ((r = prepare(e, &row, &p, err)) < 0) {
		plan_free(&p);
		ctr_net_release(e, row.id, NULL);
		return r;
	}
	int sp[2], gp[2];
	if (pipe2(sp, O_CLOEXEC) < 0 || pipe2(gp, O_CLOEXEC) < 0) {
		r = berth_error_errno(err, "pipe");
		ctr_cleanup(e, &row, NULL);
		plan_free(&p);
		return r;
	}
	pid_t child = fork();
	if (child == 0) {
		close(sp[0]);
		close(gp[1]);
		become_monitor(e, &p, sp[1], gp[0], -1);
	}
	close(sp[1]);
	close(gp[0]);
	plan_free(&p);
	FILE *f = fdopen(sp[0], "re");
	pid_t pid = 0;
	int afd = -1;
	int step = read_status(f, NULL, err);
	if (step == 'R' && o->attach) {
		afd = ctr_attach_connect(e, row.id,
					 ATTACH_STDOUT | ATTACH_STDERR |
						 (o->want_stdin ? ATTACH_STDIN : 0) |
						 (o->take_cleanup ? ATTACH_CLEANUP : 0),
					 err);
		if (afd < 0)
			step = 'A';
	}
	if (step == 'R') {
		char g = 'G';
		if (write(gp[1], &g, 1) != 1)
			step = 0;
		else
			step = read_status(f, &pid, err);
	} else if (step == 'A') {
		char a = 'A';
		(void)!write(gp[1], &a, 1);
		read_status(f, NULL, NULL);
	}
	close(gp[1]);
	fclose(f);
	if (step != 'S') {
		if (step == 0)
			berth_error_code(err, EIO,
					 "the container's monitor exited while starting it");
		while (waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		if (afd >= 0)
			close(afd);
		ctr_cleanup(e, &row, NULL);
		return -EIO;
	}
	record_started(&row, pid);
	if ((r = ctr_row_save_state(e, &row, err)) < 0) {
		if (afd >= 0)
			close(afd);
		return r;
	}
	if (o->monitor)
		*o->monitor = child;
	if (attach_fd)
		*attach_fd = afd;
	return 0;
}

/* The restart path: this process (the exit command, still holding the old
 * monitor's lock on fd 3) becomes the new monitor. Returns only on failure. */
int ctr_restart_in_place(struct engine *e, struct ctr_row *row, berth_err *err)
{
	struct start_plan p = { 0 };
	int r;
	if ((r = prepare(e, row, &p, err)) < 0) {
		plan_free(&p);
		ctr_net_release(e, row->id, NULL);
		return r;
	}
	record_started(row, 0);
	row->restart_count++;
	if ((r = ctr_row_save_state(e, row, err)) < 0) {
		plan_free(&p);
		return r;
	}
	become_monitor(e, &p, -1, -1, 3);
}
