/* ctr_stats.c - what `berth stats` shows of a container: counters read from
 * its cgroups (v1 controllers or the v2 directory, whichever the runtime
 * used) and from its init's /proc/PID/net/dev.
 *
 * Everything is cumulative (CPU time, bytes); the caller takes two samples
 * and divides, as docker's CLI does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fileio.h"
#include "common/json.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "oci/cgroup.h"
#include "oci/state.h"

/* The directory of a v1 controller ("memory") or, with controller NULL or
 * absent from v1, the v2 directory; NULL when neither exists. */
static const char *cgroup_dir(json_t *hierarchies, const char *controller)
{
	const char *v2 = NULL;
	size_t i;
	json_t *h;
	json_array_foreach (hierarchies, i, h) {
		const char *dir = json_string_value(json_object_get(h, "dir"));
		if (json_is_true(json_object_get(h, "v2"))) {
			v2 = dir;
			continue;
		}
		const char *name = json_string_value(json_object_get(h, "name")) ?: "";
		size_t n = controller ? strlen(controller) : 0;
		/* co-mounted controllers are named "cpu,cpuacct" */
		for (const char *p = name; controller && *p;) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			if (len == n && !strncmp(p, controller, n))
				return dir;
			p += len + (comma ? 1 : 0);
		}
	}
	return v2;
}

static bool is_v2(json_t *hierarchies, const char *dir)
{
	size_t i;
	json_t *h;
	json_array_foreach (hierarchies, i, h)
		if (json_is_true(json_object_get(h, "v2")) &&
		    !strcmp(json_string_value(json_object_get(h, "dir")) ?: "", dir))
			return true;
	return false;
}

static char *read_cg(const char *dir, const char *file)
{
	if (!dir)
		return NULL;
	_cleanup_free_ char *path = xasprintf("%s/%s", dir, file);
	char *s = NULL;
	if (file_read(path, &s, NULL, NULL) < 0)
		return NULL;
	return s;
}

/* A file holding one number; 0 when absent or "max". */
static uint64_t read_u64(const char *dir, const char *file)
{
	_cleanup_free_ char *s = read_cg(dir, file);
	return s ? strtoull(s, NULL, 10) : 0;
}

/* "key value" lines (memory.stat, cpu.stat): key's value, 0 when absent. */
static uint64_t keyed(const char *text, const char *key)
{
	size_t n = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, n) && p[n] == ' ')
			return strtoull(p + n + 1, NULL, 10);
	return 0;
}

static uint64_t host_mem_total(void)
{
	_cleanup_free_ char *s = NULL;
	if (file_read("/proc/meminfo", &s, NULL, NULL) < 0)
		return 0;
	const char *p = strstr(s, "MemTotal:");
	return p ? strtoull(p + 9, NULL, 10) * 1024 : 0;
}

/* The host's CPU time since boot in ns, docker's "system usage". */
static uint64_t host_cpu_ns(void)
{
	_cleanup_free_ char *s = NULL;
	if (file_read("/proc/stat", &s, NULL, NULL) < 0 || strncmp(s, "cpu ", 4))
		return 0;
	uint64_t ticks = 0;
	char *p = s + 4, *end;
	for (int i = 0; i < 8; i++, p = end) {
		unsigned long long v = strtoull(p, &end, 10);
		if (end == p)
			break;
		ticks += v;
	}
	long hz = sysconf(_SC_CLK_TCK);
	return ticks * (1000000000ULL / (uint64_t)(hz > 0 ? hz : 100));
}

static void memory_stats(json_t *hs, uint64_t mem_total, struct ctr_stats *out)
{
	const char *dir = cgroup_dir(hs, "memory");
	if (!dir)
		return;
	bool v2 = is_v2(hs, dir);
	_cleanup_free_ char *stat = read_cg(dir, "memory.stat");
	uint64_t usage = read_u64(dir, v2 ? "memory.current" : "memory.usage_in_bytes");
	/* docker leaves the inactive page cache out of the usage */
	uint64_t inactive = keyed(stat, v2 ? "inactive_file" : "total_inactive_file");
	out->mem_usage = usage > inactive ? usage - inactive : usage;
	_cleanup_free_ char *lim = read_cg(dir, v2 ? "memory.max" : "memory.limit_in_bytes");
	uint64_t limit = lim && strncmp(lim, "max", 3) ? strtoull(lim, NULL, 10) : 0;
	out->mem_limit = limit && limit < mem_total ? limit : mem_total;
}

static void cpu_stats(json_t *hs, struct ctr_stats *out)
{
	const char *dir = cgroup_dir(hs, "cpuacct");
	if (dir && !is_v2(hs, dir)) {
		out->cpu_ns = read_u64(dir, "cpuacct.usage");
		return;
	}
	_cleanup_free_ char *stat = read_cg(cgroup_dir(hs, NULL), "cpu.stat");
	out->cpu_ns = keyed(stat, "usage_usec") * 1000;
}

static void blkio_stats(json_t *hs, struct ctr_stats *out)
{
	const char *dir = cgroup_dir(hs, "blkio");
	if (dir && !is_v2(hs, dir)) {
		/* "MAJ:MIN Read N" lines, and a "Total" one */
		_cleanup_free_ char *s = read_cg(dir, "blkio.throttle.io_service_bytes_recursive");
		if (!s || !*s) {
			free(s);
			s = read_cg(dir, "blkio.throttle.io_service_bytes");
		}
		for (char *line = s, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			char dev[64], op[16];
			unsigned long long v;
			if (sscanf(line, "%63s %15s %llu", dev, op, &v) != 3)
				continue;
			if (!strcmp(op, "Read"))
				out->blk_read += v;
			else if (!strcmp(op, "Write"))
				out->blk_write += v;
		}
		return;
	}
	/* v2: "MAJ:MIN rbytes=N wbytes=N rios=N ..." */
	_cleanup_free_ char *s = read_cg(cgroup_dir(hs, NULL), "io.stat");
	for (char *line = s, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = 0;
		char *r = strstr(line, " rbytes="), *w = strstr(line, " wbytes=");
		if (r)
			out->blk_read += strtoull(r + 8, NULL, 10);
		if (w)
			out->blk_write += strtoull(w + 8, NULL, 10);
	}
}

/* The container's interfaces as its init sees them, loopback left out. */
static void net_stats(pid_t pid, struct ctr_stats *out)
{
	_cleanup_free_ char *path = xasprintf("/proc/%d/net/dev", (int)pid);
	_cleanup_free_ char *s = NULL;
	if (pid <= 0 || file_read(path, &s, NULL, NULL) < 0)
		return;
	for (char *line = s, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		char *colon = strchr(line, ':');
		if (!colon || (nl && colon > nl))
			continue;
		char *name = line;
		while (*name == ' ')
			name++;
		if ((size_t)(colon - name) == 2 && !strncmp(name, "lo", 2))
			continue;
		unsigned long long f[9];
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &f[0], &f[1],
			   &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8]) == 9) {
			out->net_rx += f[0];
			out->net_tx += f[8];
		}
	}
}

int ctr_stats(struct engine *e, const char *id, struct ctr_stats *out, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	*out = (struct ctr_stats){ 0 };
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	uint64_t mem_total = host_mem_total();
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	out->online_cpus = ncpu > 0 ? (unsigned)ncpu : 1;
	out->system_ns = host_cpu_ns();
	out->mem_limit = mem_total;
	const char *status = json_string_value(json_object_get(row.state, "Status")) ?: "";
	if (strcmp(status, "running") && strcmp(status, "paused"))
		return 0;
	struct container_state st;
	berth_err e2 = BERTH_ERR_INIT;
	if (state_load(e->runtime_root, id, &st, &e2) < 0) {
		/* gone between the refresh and now: it just stopped */
		berth_err_clear(&e2);
		return 0;
	}
	out->running = true;
	if (st.cgroup) {
		_cleanup_json_ json_t *cg = cgroup_to_json(st.cgroup);
		json_t *hs = json_object_get(cg, "hierarchies");
		memory_stats(hs, mem_total, out);
		cpu_stats(hs, out);
		blkio_stats(hs, out);
		out->pids = read_u64(cgroup_dir(hs, "pids"), "pids.current");
	}
	net_stats(st.pid, out);
	container_state_release(&st);
	return 0;
}
