/* ctr_ports.c - a container's published ports on the host.
 *
 * The table host_ports (module "host_ports" of berth.db) holds each host
 * port a running container publishes, so two containers never get the same
 * one; a port a process of the host listens on is not taken either (Docker's
 * proxy would fail to bind it; Berth's DNAT would take its traffic). Rows
 * are made at start with the container's leases and go in ctr_cleanup().
 *
 *   ctr_ports_reserve()   PortBindings (and -P's exposed ports) to host ports,
 *                         random ones picked from the local port range; one
 *                         transaction
 *   ctr_ports_release()   the rules (nft_ports_remove) then the rows
 *   ctr_ports_settings()  inspect's NetworkSettings.Ports
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "engine/engine_internal.h"
#include "image/db.h"
#include "net/nft.h"

static const char *const ports_migrations[] = {
	"CREATE TABLE host_ports ("
	" proto TEXT NOT NULL,"
	" host_ip TEXT NOT NULL,"
	" host_port INTEGER NOT NULL,"
	" container_id TEXT NOT NULL,"
	" container_port INTEGER NOT NULL,"
	" PRIMARY KEY (proto, host_ip, host_port));"
	"CREATE INDEX host_ports_container ON host_ports(container_id);",
	NULL,
};

static int ports_migrate(struct engine *e, berth_err *err)
{
	if (e->ports_ready)
		return 0;
	int r = db_migrate(e->db, "host_ports", ports_migrations, err);
	if (r == 0)
		e->ports_ready = true;
	return r;
}

/* Is host_ip:port of proto free for a listener on the host? (Docker's proxy
 * binds it; Berth's DNAT would take the traffic from whoever does.) */
static bool host_port_bindable(const char *proto, const char *ip, int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, ip, &sa.sin_addr) != 1)
		return true;
	int fd = socket(AF_INET, (strcmp(proto, "udp") ? SOCK_STREAM : SOCK_DGRAM) | SOCK_CLOEXEC,
			0);
	if (fd < 0)
		return true;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	bool ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno != EADDRINUSE;
	close(fd);
	return ok;
}

/* Taken by another container: same proto and port, and the same address or
 * either one "all addresses". */
static int port_taken(struct engine *e, const char *proto, const char *ip, int port, bool *taken,
		      berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "SELECT 1 FROM host_ports WHERE proto = ? AND host_port = ? AND "
		       "(host_ip = ? OR host_ip = '0.0.0.0' OR ? = '0.0.0.0') LIMIT 1",
		       &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, port);
	sqlite3_bind_text(st, 3, ip, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, ip, -1, SQLITE_STATIC);
	int s = sqlite3_step(st);
	if (s != SQLITE_ROW && s != SQLITE_DONE)
		return db_fail(e->db, err, "reading the published ports");
	*taken = s == SQLITE_ROW;
	return 0;
}

static int port_insert(struct engine *e, const char *id, const char *proto, const char *ip,
		       int port, int cport, berth_err *err)
{
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "INSERT INTO host_ports (proto, host_ip, host_port, container_id, "
		       "container_port) VALUES (?, ?, ?, ?, ?)",
		       &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, proto, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, port);
	sqlite3_bind_text(st, 4, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, cport);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "recording a published port");
	return 0;
}

static void local_port_range(int *lo, int *hi)
{
	*lo = 32768;
	*hi = 60999;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "re");
	if (f) {
		if (fscanf(f, "%d %d", lo, hi) != 2 || *lo < 1 || *hi > 65535 || *lo > *hi) {
			*lo = 32768;
			*hi = 60999;
		}
		fclose(f);
	}
}

/* One binding: HostPort "" (any free port), "N" or "N-M" (the first free). */
static int port_pick(struct engine *e, const char *id, const char *proto, const char *ip,
		     const char *host_port, int cport, json_t *out, berth_err *err)
{
	int lo, hi;
	bool any = !host_port || !*host_port;
	if (any) {
		local_port_range(&lo, &hi);
	} else {
		char *end;
		lo = (int)strtol(host_port, &end, 10);
		hi = *end == '-' ? (int)strtol(end + 1, &end, 10) : lo;
		if (*end || lo < 1 || hi > 65535 || lo > hi)
			return berth_error_code(err, EINVAL, "invalid host port: %s", host_port);
	}
	unsigned span = (unsigned)(hi - lo + 1), start = 0;
	if (any)
		while (getrandom(&start, sizeof(start), 0) != sizeof(start))
			;
	for (unsigned k = 0; k < span; k++) {
		int port = lo + (int)((start + k) % span);
		bool taken = false;
		int r = port_taken(e, proto, ip, port, &taken, err);
		if (r < 0)
			return r;
		if (taken || !host_port_bindable(proto, ip, port))
			continue;
		if ((r = port_insert(e, id, proto, ip, port, cport, err)) < 0)
			return r;
		json_array_append_new(out, json_pack("{s:s,s:s,s:i,s:i}", "proto", proto, "host_ip",
						     ip, "host_port", port, "ctr_port", cport));
		return 0;
	}
	if (span == 1)
		return berth_error_code(err, EADDRINUSE,
					"Bind for %s:%d failed: port is already allocated", ip, lo);
	return berth_error_code(err, EADDRINUSE, "no free host port for %d/%s in %d-%d", cport,
				proto, lo, hi);
}

/* "80/tcp" -> 80, "tcp"; 0 when not a port. */
static int port_key(const char *key, char *proto, size_t len)
{
	char *end;
	long p = strtol(key, &end, 10);
	if (p < 1 || p > 65535 || (*end && *end != '/'))
		return 0;
	snprintf(proto, len, "%s", *end ? end + 1 : "tcp");
	if (strcmp(proto, "tcp") && strcmp(proto, "udp") && strcmp(proto, "sctp"))
		return 0;
	return (int)p;
}

/* PortBindings, and with -P every exposed port (Config's and the image's),
 * to host ports, reserved in one transaction. */
int ctr_ports_reserve(struct engine *e, struct ctr_row *row, json_t *image_exposed,
			 json_t **out, berth_err *err)
{
	json_t *pb = json_object_get(row->host_config, "PortBindings");
	bool all = json_is_true(json_object_get(row->host_config, "PublishAllPorts"));
	*out = json_array();
	if (json_object_size(pb) == 0 && !all)
		return 0;
	int r;
	if ((r = ports_migrate(e, err)) < 0 || (r = db_begin(e->db, err)) < 0)
		return r;
	const char *key;
	json_t *v;
	char proto[8];
	json_object_foreach (pb, key, v) {
		int cport = port_key(key, proto, sizeof(proto));
		if (!cport) {
			r = berth_error_code(err, EINVAL, "invalid port specification: \"%s\"", key);
			goto fail;
		}
		size_t i;
		json_t *b;
		json_array_foreach (v, i, b) {
			const char *ip = json_string_value(json_object_get(b, "HostIp"));
			const char *hp = json_string_value(json_object_get(b, "HostPort"));
			struct in_addr a;
			if (ip && *ip && inet_pton(AF_INET, ip, &a) != 1) {
				r = berth_error_code(err, EINVAL,
						     "invalid host IP for a published port: %s "
						     "(IPv4 only)",
						     ip);
				goto fail;
			}
			if ((r = port_pick(e, row->id, proto, ip && *ip ? ip : "0.0.0.0", hp, cport,
					   *out, err)) < 0)
				goto fail;
		}
	}
	if (all) {
		json_t *sets[] = { json_object_get(row->config, "ExposedPorts"), image_exposed };
		for (size_t s = 0; s < 2; s++)
			json_object_foreach (sets[s], key, v) {
				int cport = port_key(key, proto, sizeof(proto));
				if (!cport || json_object_get(pb, key))
					continue;
				if (s == 1 && json_object_get(sets[0], key))
					continue;
				if ((r = port_pick(e, row->id, proto, "0.0.0.0", NULL, cport, *out,
						   err)) < 0)
					goto fail;
			}
	}
	if ((r = db_commit(e->db, err)) < 0)
		goto fail;
	return 0;
fail:
	db_rollback(e->db);
	json_decref(*out);
	*out = NULL;
	return r;
}

int ctr_ports_release(struct engine *e, const char *id, berth_err *err)
{
	int r;
	if ((r = ports_migrate(e, err)) < 0)
		return r;
	_cleanup_stmt_ sqlite3_stmt *q = NULL, *st = NULL;
	/* Most containers publish nothing: a read, and no write transaction. */
	if (db_prepare(e->db, "SELECT 1 FROM host_ports WHERE container_id = ? LIMIT 1", &q,
		       err) < 0)
		return -EIO;
	sqlite3_bind_text(q, 1, id, -1, SQLITE_STATIC);
	int s = sqlite3_step(q);
	/* Done with the read: a statement left on a row keeps its read
	 * transaction open, and the DELETE's upgrade to a write would then fail
	 * at once (SQLITE_BUSY, no busy wait) when another process wrote. */
	sqlite3_reset(q);
	if (s == SQLITE_DONE)
		return 0;
	if (s != SQLITE_ROW)
		return db_fail(e->db, err, "reading the published ports");
	/* The rules first: a kill -9 between the two leaves the rows, and the
	 * next command removes the rules (again) and then them. */
	int r2 = nft_ports_remove(id, err);
	if (r2 < 0)
		return r2;
	if (db_prepare(e->db, "DELETE FROM host_ports WHERE container_id = ?", &st, err) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return db_fail(e->db, err, "releasing the published ports");
	return 0;
}

/* The container's published ports as Docker's NetworkSettings.Ports:
 * every exposed port, null when not published. */
json_t *ctr_ports_settings(struct engine *e, struct ctr_row *row, bool running)
{
	json_t *o = json_object();
	const char *key;
	json_t *v;
	json_object_foreach (json_object_get(row->config, "ExposedPorts"), key, v)
		json_object_set_new(o, key, json_null());
	json_object_foreach (json_object_get(row->host_config, "PortBindings"), key, v)
		json_object_set_new(o, key, json_null());
	if (!running || ports_migrate(e, NULL) < 0)
		return o;
	_cleanup_stmt_ sqlite3_stmt *st = NULL;
	if (db_prepare(e->db,
		       "SELECT proto, host_ip, host_port, container_port FROM host_ports WHERE "
		       "container_id = ? ORDER BY container_port, host_port",
		       &st, NULL) < 0)
		return o;
	sqlite3_bind_text(st, 1, row->id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		char k[32], hp[16];
		snprintf(k, sizeof(k), "%d/%s", sqlite3_column_int(st, 3),
			 (const char *)sqlite3_column_text(st, 0));
		snprintf(hp, sizeof(hp), "%d", sqlite3_column_int(st, 2));
		json_t *list = json_object_get(o, k);
		if (!json_is_array(list)) {
			list = json_array();
			json_object_set_new(o, k, list);
		}
		json_array_append_new(list,
				      json_pack("{s:s,s:s}", "HostIp",
						(const char *)sqlite3_column_text(st, 1), "HostPort",
						hp));
	}
	return o;
}

