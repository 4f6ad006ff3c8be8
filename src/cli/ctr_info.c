/* ctr_info.c - what is going on in a container: `top`, `stats`, `port`,
 * `attach`; and `update`, which changes its limits. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli/attach_client.h"
#include "cli/berth.h"
#include "cli/ctr_opts_values.h"
#include "cli/format.h"
#include "cli/units.h"
#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/strbuf.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "monitor/attach_proto.h"
#include "oci/container.h"

static int no_flags_allowed(int argc, char **argv)
{
	static const struct option opts[] = { { NULL, 0, NULL, 0 } };
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1)
		return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
	return 0;
}

static const char *status_of(json_t *insp)
{
	return json_string_value(json_object_get(json_object_get(insp, "State"), "Status")) ?: "";
}

/* ---- top ------------------------------------------------------------------ */

/* argv run without a shell: its stdout and stderr, whole. stderr goes to a
 * memfd, read after the exit, so neither pipe can fill while we read the other. */
static int run_capture(char **args, char **out, char **errout, int *status, berth_err *err)
{
	_cleanup_close_ int efd = memfd_create("ps-stderr", MFD_CLOEXEC);
	if (efd < 0)
		return berth_error_errno(err, "memfd_create");
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return berth_error_errno(err, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		close(p[0]);
		close(p[1]);
		return berth_error_errno(err, "fork");
	}
	if (pid == 0) {
		if (dup2(p[1], STDOUT_FILENO) < 0 || dup2(efd, STDERR_FILENO) < 0)
			_exit(127);
		execvp(args[0], args);
		fprintf(stderr, "exec: \"%s\": %s", args[0], strerror(errno));
		_exit(127);
	}
	close(p[1]);
	size_t len;
	int r = fd_read_all(p[0], out, &len);
	close(p[0]);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return berth_error_errno(err, "waitpid");
	if (r < 0)
		return berth_error(err, -r, "reading the output of %s", args[0]);
	if (lseek(efd, 0, SEEK_SET) < 0 || (r = fd_read_all(efd, errout, &len)) < 0)
		return berth_error(err, r < 0 ? -r : errno, "reading the errors of %s", args[0]);
	return 0;
}

/* A line of ps split into as many fields as the header has; the last one
 * (the command) keeps its spaces. */
static char **split_fields(char *line, size_t n)
{
	char **v = NULL;
	char *p = line;
	for (size_t i = 0; i < n; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			break;
		if (i + 1 == n) {
			strv_push(&v, p);
			break;
		}
		char *end = p + strcspn(p, " \t");
		char saved = *end;
		*end = 0;
		strv_push(&v, p);
		*end = saved;
		p = end;
	}
	return v;
}

/* docker's top output: tab-aligned, columns at least 20 wide, 3 apart */
static void print_columns(char ***rows, size_t nrows)
{
	size_t ncol = 0;
	for (size_t r = 0; r < nrows; r++)
		ncol = strv_length(rows[r]) > ncol ? strv_length(rows[r]) : ncol;
	size_t *w = xcalloc(ncol ? ncol : 1, sizeof(*w));
	for (size_t r = 0; r < nrows; r++)
		for (size_t c = 0; rows[r][c]; c++)
			if (strlen(rows[r][c]) + 3 > w[c])
				w[c] = strlen(rows[r][c]) + 3;
	for (size_t r = 0; r < nrows; r++) {
		for (size_t c = 0; rows[r][c]; c++) {
			if (!rows[r][c + 1])
				printf("%s", rows[r][c]);
			else
				printf("%-*s", (int)(w[c] < 20 ? 20 : w[c]), rows[r][c]);
		}
		printf("\n");
	}
	free(w);
}

int cmd_top(int argc, char **argv)
{
	/* everything after the container is ps's, options included */
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		berth_help(NULL);
		return 0;
	}
	if (argc < 2)
		return berth_usage_error(argv[0], "\"top\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_t *insp = NULL;
	if (!e || ctr_resolve(e, argv[1], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0)
		return berth_fail(&err);
	if (strcmp(status_of(insp), "running") && strcmp(status_of(insp), "paused")) {
		fprintf(stderr, "berth: Error response from daemon: Container %s is not running\n",
			id);
		return 1;
	}
	_cleanup_free_ pid_t *pids = NULL;
	size_t npids = 0;
	if (container_pids(engine_runtime_root(e), id, &pids, &npids, &err) < 0)
		return berth_fail(&err);
	/* docker splits the ps options on spaces: `top c "-o pid,comm"` works too */
	_cleanup_strv_ char **args = NULL;
	strv_push(&args, "ps");
	for (int i = 2; i < argc; i++) {
		_cleanup_free_ char *copy = xstrdup(argv[i]);
		char *save = NULL;
		for (char *t = strtok_r(copy, " ", &save); t; t = strtok_r(NULL, " ", &save))
			strv_push(&args, t);
	}
	if (argc == 2)
		strv_push(&args, "-ef");
	_cleanup_free_ char *out = NULL, *errout = NULL;
	int status = 0;
	if (run_capture(args, &out, &errout, &status, &err) < 0)
		return berth_fail(&err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		size_t n = errout ? strlen(errout) : 0;
		while (n && (errout[n - 1] == '\n' || errout[n - 1] == ' '))
			errout[--n] = 0;
		fprintf(stderr, "berth: Error response from daemon: ps: exit status %d: %s\n",
			WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
			errout ? errout : "");
		return 1;
	}
	char *save = NULL;
	char *header = strtok_r(out, "\n", &save);
	if (!header) {
		fprintf(stderr, "berth: Error response from daemon: Couldn't find PID field in ps "
				"output\n");
		return 1;
	}
	_cleanup_strv_ char **titles = split_fields(header, (size_t)-1 >> 1);
	size_t ntitles = strv_length(titles), pid_col = ntitles;
	for (size_t i = 0; i < ntitles; i++)
		if (!strcmp(titles[i], "PID"))
			pid_col = i;
	if (pid_col == ntitles) {
		fprintf(stderr, "berth: Error response from daemon: Couldn't find PID field in ps "
				"output\n");
		return 1;
	}
	size_t nrows = 1;
	char ***rows = xcalloc(1, sizeof(*rows));
	rows[0] = TAKE_PTR(titles);
	for (char *line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char **f = split_fields(line, ntitles);
		bool mine = false;
		if (strv_length(f) > pid_col) {
			pid_t p = (pid_t)strtol(f[pid_col], NULL, 10);
			for (size_t i = 0; i < npids && !mine; i++)
				mine = pids[i] == p;
		}
		if (!mine) {
			strv_free(f);
			continue;
		}
		rows = xrealloc(rows, (nrows + 1) * sizeof(*rows));
		rows[nrows++] = f;
	}
	print_columns(rows, nrows);
	for (size_t i = 0; i < nrows; i++)
		strv_free(rows[i]);
	free(rows);
	return 0;
}

/* ---- stats ------------------------------------------------------------------ */

static const char *const stats_headers[] = {
	"ID",        "CONTAINER ID", "Name",  "NAME",     "Container",
	"CONTAINER", "CPUPerc",      "CPU %", "MemUsage", "MEM USAGE / LIMIT",
	"MemPerc",   "MEM %",        "NetIO", "NET I/O",  "BlockIO",
	"BLOCK I/O", "PIDs",         "PIDS",  NULL,
};

/* go-units BytesSize: binary units, 4 significant digits ("1.5MiB") */
static char *bytes_size(double v)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	size_t i = 0;
	while (v >= 1024 && i + 1 < ARRAY_SIZE(units)) {
		v /= 1024;
		i++;
	}
	return xasprintf("%.4g%s", v, units[i]);
}

struct stats_entry {
	char *id;
	char *name;
	char *as_given; /* what the user typed, for {{.Container}} */
	struct ctr_stats prev, cur;
	bool have_prev;
};

static json_t *stats_row(struct stats_entry *s, bool notrunc)
{
	const struct ctr_stats *c = &s->cur, *p = &s->prev;
	double cpu = 0, mem = 0;
	if (c->running && s->have_prev && c->system_ns > p->system_ns && c->cpu_ns >= p->cpu_ns)
		cpu = (double)(c->cpu_ns - p->cpu_ns) / (double)(c->system_ns - p->system_ns) *
		      c->online_cpus * 100.0;
	if (c->running && c->mem_limit)
		mem = (double)c->mem_usage / (double)c->mem_limit * 100.0;
	json_t *row = json_object();
	json_object_set_new(row, "ID", json_stringn(s->id, notrunc ? strlen(s->id) : 12));
	json_object_set_new(row, "Name", json_string(s->name));
	json_object_set_new(row, "Container", json_string(s->as_given));
	json_object_set_new(row, "CPUPerc", json_sprintf("%.2f%%", cpu));
	json_object_set_new(row, "MemPerc", json_sprintf("%.2f%%", mem));
	if (c->running) {
		_cleanup_free_ char *u = bytes_size((double)c->mem_usage),
				    *l = bytes_size((double)c->mem_limit),
				    *rx = human_size((double)c->net_rx),
				    *tx = human_size((double)c->net_tx),
				    *br = human_size((double)c->blk_read),
				    *bw = human_size((double)c->blk_write);
		json_object_set_new(row, "MemUsage", json_sprintf("%s / %s", u, l));
		json_object_set_new(row, "NetIO", json_sprintf("%s / %s", rx, tx));
		json_object_set_new(row, "BlockIO", json_sprintf("%s / %s", br, bw));
	} else {
		json_object_set_new(row, "MemUsage", json_string("0B / 0B"));
		json_object_set_new(row, "NetIO", json_string("0B / 0B"));
		json_object_set_new(row, "BlockIO", json_string("0B / 0B"));
	}
	json_object_set_new(row, "PIDs", json_sprintf("%llu", (unsigned long long)c->pids));
	return row;
}

static void stats_entries_free(struct stats_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].id);
		free(v[i].name);
		free(v[i].as_given);
	}
	free(v);
}

/* Without names: every running container (all: every container), listed
 * again at each refresh so that new ones appear and removed ones go. */
static void stats_relist(struct engine *e, bool all, struct stats_entry **v, size_t *n)
{
	json_t *list = NULL;
	if (ctr_list(e, &list, NULL) < 0)
		return;
	struct stats_entry *nv = NULL;
	size_t nn = 0, i;
	json_t *insp;
	json_array_foreach (list, i, insp) {
		const char *s = status_of(insp);
		if (!all && strcmp(s, "running") && strcmp(s, "paused"))
			continue;
		const char *id = json_string_value(json_object_get(insp, "Id")) ?: "";
		nv = xrealloc(nv, (nn + 1) * sizeof(*nv));
		struct stats_entry *s2 = &nv[nn++];
		*s2 = (struct stats_entry){ 0 };
		for (size_t k = 0; k < *n; k++)
			if (!strcmp((*v)[k].id, id)) {
				s2->prev = (*v)[k].cur;
				s2->cur = (*v)[k].cur;
				s2->have_prev = (*v)[k].have_prev;
			}
		s2->id = xstrdup(id);
		const char *name = json_string_value(json_object_get(insp, "Name")) ?: "/";
		s2->name = xstrdup(name[0] == '/' ? name + 1 : name);
		s2->as_given = xstrndup(id, 12);
	}
	json_decref(list);
	stats_entries_free(*v, *n);
	*v = nv;
	*n = nn;
}

static void stats_sample(struct engine *e, struct stats_entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct ctr_stats s;
		if (ctr_stats(e, v[i].id, &s, NULL) < 0)
			s = (struct ctr_stats){ 0 };
		if (v[i].cur.system_ns) {
			v[i].prev = v[i].cur;
			v[i].have_prev = true;
		}
		v[i].cur = s;
	}
}

int cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "no-stream", no_argument, NULL, 'n' },
		{ "no-trunc", no_argument, NULL, 'T' },
		{ "format", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false, no_stream = false, notrunc = false;
	const char *format = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'n': no_stream = true; break;
		case 'T': notrunc = true; break;
		case 'F': format = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	if (!format || !strcmp(format, "table"))
		format = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}"
			 "\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}";
	struct fmt_template *t = NULL;
	if (fmt_compile(format, stats_headers, &t, &err) < 0)
		return berth_fail(&err);
	struct stats_entry *v = NULL;
	size_t n = 0;
	bool named = optind < argc;
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *id = NULL;
		_cleanup_json_ json_t *insp = NULL;
		if (ctr_resolve(e, argv[i], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0) {
			fprintf(stderr, "berth: Error response from daemon: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		v = xrealloc(v, (n + 1) * sizeof(*v));
		const char *name = json_string_value(json_object_get(insp, "Name")) ?: "/";
		v[n++] = (struct stats_entry){
			.id = TAKE_PTR(id),
			.name = xstrdup(name[0] == '/' ? name + 1 : name),
			.as_given = xstrdup(argv[i]),
		};
	}
	if (named && !n) {
		fmt_free(t);
		return rc;
	}
	if (!named)
		stats_relist(e, all, &v, &n);
	/* CPU % needs two samples; the first answer comes a second later, as docker's */
	stats_sample(e, v, n);
	bool tty = berth_is_tty();
	for (;;) {
		sleep(1);
		if (!named)
			stats_relist(e, all, &v, &n);
		stats_sample(e, v, n);
		json_t *rows = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(rows, stats_row(&v[i], notrunc));
		if (tty && !no_stream)
			printf("\033[2J\033[H");
		if (fmt_print(t, rows, stdout, &err) < 0) {
			json_decref(rows);
			rc = berth_fail(&err);
			break;
		}
		json_decref(rows);
		fflush(stdout);
		if (no_stream)
			break;
	}
	fmt_free(t);
	stats_entries_free(v, n);
	return rc;
}

/* ---- update --------------------------------------------------------------- */

enum upd_kind { UPD_SIZE, UPD_SWAP, UPD_INT, UPD_UINT16, UPD_CPUS, UPD_STR, UPD_RESTART };

static const struct upd_flag {
	const char *name;
	char shortopt;
	const char *key; /* in HostConfig */
	enum upd_kind kind;
} upd_flags[] = {
	{ "blkio-weight", 0, "BlkioWeight", UPD_UINT16 },
	{ "cpu-period", 0, "CpuPeriod", UPD_INT },
	{ "cpu-quota", 0, "CpuQuota", UPD_INT },
	{ "cpu-shares", 'c', "CpuShares", UPD_INT },
	{ "cpus", 0, "NanoCpus", UPD_CPUS },
	{ "cpuset-cpus", 0, "CpusetCpus", UPD_STR },
	{ "cpuset-mems", 0, "CpusetMems", UPD_STR },
	{ "memory", 'm', "Memory", UPD_SIZE },
	{ "memory-reservation", 0, "MemoryReservation", UPD_SIZE },
	{ "memory-swap", 0, "MemorySwap", UPD_SWAP },
	{ "pids-limit", 0, "PidsLimit", UPD_INT },
	{ "restart", 0, "RestartPolicy", UPD_RESTART },
};

static int upd_value(const struct upd_flag *f, const char *val, json_t *changes, berth_err *err)
{
	int64_t n = 0;
	json_t *j = NULL;
	switch (f->kind) {
	case UPD_SWAP:
		if (!strcmp(val, "-1")) {
			n = -1;
			break;
		}
		/* fall through */
	case UPD_SIZE:
		if (ctr_parse_size(val, &n, err) < 0)
			return -EINVAL;
		break;
	case UPD_INT:
		if (ctr_parse_int(val, 64, false, &n, err) < 0)
			return -EINVAL;
		break;
	case UPD_UINT16:
		if (ctr_parse_int(val, 16, true, &n, err) < 0)
			return -EINVAL;
		if (n != 0 && (n < 10 || n > 1000))
			return berth_error_code(err, EINVAL,
						"Range of blkio weight is from 10 to 1000");
		break;
	case UPD_CPUS:
		if (ctr_parse_nano_cpus(val, &n, err) < 0)
			return -EINVAL;
		break;
	case UPD_STR: j = json_string(val); break;
	case UPD_RESTART:
		if (ctr_parse_restart(val, &j, err) < 0)
			return -EINVAL;
		break;
	}
	json_object_set_new(changes, f->key, j ? j : json_integer(n));
	return 0;
}

int cmd_update(int argc, char **argv)
{
	struct option opts[ARRAY_SIZE(upd_flags) + 1];
	for (size_t i = 0; i < ARRAY_SIZE(upd_flags); i++)
		opts[i] =
			(struct option){ upd_flags[i].name, required_argument, NULL, 256 + (int)i };
	opts[ARRAY_SIZE(upd_flags)] = (struct option){ NULL, 0, NULL, 0 };
	_cleanup_json_ json_t *changes = json_object();
	int c;
	while ((c = getopt_long(argc, argv, "+c:m:", opts, NULL)) != -1) {
		const struct upd_flag *f = NULL;
		if (c >= 256 && c < 256 + (int)ARRAY_SIZE(upd_flags))
			f = &upd_flags[c - 256];
		for (size_t i = 0; !f && i < ARRAY_SIZE(upd_flags); i++)
			if (c == upd_flags[i].shortopt)
				f = &upd_flags[i];
		if (!f)
			return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		berth_err err = BERTH_ERR_INIT;
		if (upd_value(f, optarg, changes, &err) < 0) {
			int rc = f->shortopt
					 ? berth_usage_error(argv[0],
							     "invalid argument \"%s\" for \"-%c, "
							     "--%s\" flag: %s",
							     optarg, f->shortopt, f->name, err.msg)
					 : berth_usage_error(argv[0],
							     "invalid argument \"%s\" for \"--%s\" "
							     "flag: %s",
							     optarg, f->name, err.msg);
			berth_err_clear(&err);
			return rc;
		}
	}
	if (optind >= argc)
		return berth_usage_error(argv[0], "\"update\" requires at least 1 argument.");
	if (!json_object_size(changes)) {
		fprintf(stderr,
			"berth: you must provide one or more flags when using this command\n");
		return 1;
	}
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	if (!e)
		return berth_fail(&err);
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		_cleanup_free_ char *id = NULL;
		if (ctr_resolve(e, argv[i], &id, &err) < 0 ||
		    ctr_update(e, id, changes, &err) < 0) {
			fprintf(stderr, "berth: Error response from daemon: %s\n", err.msg);
			berth_err_clear(&err);
			rc = 1;
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}

/* ---- port ----------------------------------------------------------------- */

/* "80/tcp" keys by port number, then protocol (qsort; ps uses it too). */
int port_key_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	long px = strtol(x, NULL, 10), py = strtol(y, NULL, 10);
	return px != py ? (px < py ? -1 : 1) : strcmp(x, y);
}

static void print_bindings(const char *prefix, json_t *list)
{
	size_t i;
	json_t *b;
	json_array_foreach (list, i, b) {
		const char *ip = json_string_value(json_object_get(b, "HostIp")) ?: "";
		const char *port = json_string_value(json_object_get(b, "HostPort")) ?: "";
		if (!*ip)
			ip = "0.0.0.0";
		bool v6 = strchr(ip, ':') != NULL;
		printf("%s%s%s%s:%s\n", prefix, v6 ? "[" : "", ip, v6 ? "]" : "", port);
	}
}

/* The host ports of a running container, as NetworkSettings.Ports has
 * them (random ones resolved); ports exposed but not published are skipped. */
int cmd_port(int argc, char **argv)
{
	int r = no_flags_allowed(argc, argv);
	if (r)
		return r;
	if (optind >= argc || argc - optind > 2)
		return berth_usage_error(
			argv[0], argc - optind > 2 ? "\"port\" requires at most 2 arguments."
						   : "\"port\" requires at least 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_t *insp = NULL;
	if (!e || ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0)
		return berth_fail(&err);
	json_t *pb = json_object_get(json_object_get(insp, "NetworkSettings"), "Ports");
	if (optind + 1 < argc) {
		const char *want = argv[optind + 1];
		_cleanup_free_ char *key =
			strchr(want, '/') ? xstrdup(want) : xasprintf("%s/tcp", want);
		json_t *list = json_object_get(pb, key);
		if (!json_array_size(list)) {
			fprintf(stderr, "Error: No public port '%s' published for %s\n", key,
				argv[optind]);
			return 1;
		}
		print_bindings("", list);
		return 0;
	}
	size_t n = 0;
	const char **keys = xcalloc(json_object_size(pb) + 1, sizeof(*keys));
	const char *key;
	json_t *v;
	json_object_foreach (pb, key, v)
		if (json_array_size(v) > 0)
			keys[n++] = key;
	qsort(keys, n, sizeof(*keys), port_key_cmp);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *prefix = xasprintf("%s -> ", keys[i]);
		print_bindings(prefix, json_object_get(pb, keys[i]));
	}
	free(keys);
	return 0;
}

/* ---- attach --------------------------------------------------------------- */

int cmd_attach(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "no-stdin", no_argument, NULL, 'n' },
		{ "sig-proxy", optional_argument, NULL, 's' },
		{ "detach-keys", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	bool no_stdin = false, sig_proxy = true;
	const char *keys = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		switch (c) {
		case 'n': no_stdin = true; break;
		case 's': {
			berth_err err = BERTH_ERR_INIT;
			if (optarg && ctr_parse_bool(optarg, &sig_proxy, &err) < 0) {
				int rc = berth_usage_error(
					argv[0],
					"invalid argument \"%s\" for \"--sig-proxy\" flag: %s",
					optarg, err.msg);
				berth_err_clear(&err);
				return rc;
			}
			if (!optarg)
				sig_proxy = true;
			break;
		}
		case 'k': keys = optarg; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 != argc)
		return berth_usage_error(argv[0], "\"attach\" requires exactly 1 argument.");
	berth_err err = BERTH_ERR_INIT;
	struct engine *e = berth_engine(&err);
	_cleanup_free_ char *id = NULL;
	_cleanup_json_ json_t *insp = NULL;
	if (!e || ctr_resolve(e, argv[optind], &id, &err) < 0 || ctr_get(e, id, &insp, &err) < 0)
		return berth_fail(&err);
	json_t *cfg = json_object_get(insp, "Config");
	bool tty = json_is_true(json_object_get(cfg, "Tty"));
	bool in = !no_stdin && json_is_true(json_object_get(cfg, "OpenStdin"));
	if (in && tty && !isatty(STDIN_FILENO)) {
		fprintf(stderr, "berth: the input device is not a TTY\n");
		return 1;
	}
	int fd = ctr_attach(e, id, ATTACH_STDOUT | ATTACH_STDERR | (in ? ATTACH_STDIN : 0), &err);
	if (fd < 0) {
		fprintf(stderr, "berth: Error response from daemon: %s\n", err.msg);
		berth_err_clear(&err);
		return 1;
	}
	struct attach_params ap = {
		.fd = fd,
		.tty = tty,
		.stdin_on = in,
		.sig_proxy = sig_proxy && !tty,
		.detach_keys = keys,
		.engine = e,
		.id = id,
	};
	int code = 0;
	int r = attach_stream(&ap, &code);
	close(fd);
	if (r == ATTACH_DETACHED)
		return 0;
	if (r == ATTACH_LOST && ctr_wait(e, id, -1, &code, &err) < 0)
		return berth_fail(&err);
	return code;
}
