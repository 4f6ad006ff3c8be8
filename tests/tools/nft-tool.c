/* nft-tool - drive net/nft.c from the shell, for the system tests and by hand.
 *
 *   nft-tool net-add ID BRIDGE SUBNET4|- SUBNET6|- [internal]
 *   nft-tool net-rm ID
 *   nft-tool ports-add CTR PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT...   (HOSTIP may be empty)
 *   nft-tool ports-rm CTR
 *   nft-tool reset
 *   nft-tool bench N              publish 2 ports for each of N containers, then time
 *                                 50 add/remove cycles of one more in this process
 *                                 (the kept context warm), and remove them all
 *
 * Each call's wall time is printed on stderr ("nft-tool: ports-add 0.412 ms"),
 * to watch the cost; nothing asserts on it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/xalloc.h"
#include "net/nft.h"

static int usage(void)
{
	fprintf(stderr,
		"usage: nft-tool net-add ID BRIDGE SUBNET4|- SUBNET6|- [internal]\n"
		"       nft-tool net-rm ID | ports-add CTR PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT...\n"
		"       nft-tool ports-rm CTR | reset\n");
	return 2;
}

static const char *opt(const char *s)
{
	return strcmp(s, "-") ? s : NULL;
}

static int parse_port(const char *s)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 0 || v > 65535)
		return -1;
	return (int)v;
}

/* PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT, split in place. */
static int parse_spec(char *s, struct nft_port *p)
{
	char *f[5];
	for (int i = 0; i < 5; i++) {
		f[i] = s;
		char *c = strchr(s, ':');
		if (i < 4) {
			if (!c)
				return -1;
			*c = '\0';
			s = c + 1;
		} else if (c) {
			return -1;
		}
	}
	p->proto = f[0];
	p->host_ip = f[1];
	p->host_port = parse_port(f[2]);
	p->ctr_ip = f[3];
	p->ctr_port = parse_port(f[4]);
	return 0;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define BENCH_ROUNDS 50

static int bench(int n, berth_err *err)
{
	char id[80], ip[32];
	int r;
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "bench%059d", i);
		snprintf(ip, sizeof(ip), "172.30.%d.%d", 100 + i / 250, i % 250 + 2);
		struct nft_port p[2] = { { "tcp", NULL, 20000 + i, ip, 80 },
					 { "udp", "127.0.0.1", 20000 + i, ip, 53 } };
		if ((r = nft_ports_add(id, p, 2, err)) < 0)
			return r;
	}
	double add[BENCH_ROUNDS], rm[BENCH_ROUNDS];
	struct nft_port p[2] = { { "tcp", NULL, 19999, "172.30.99.2", 80 },
				 { "tcp", "127.0.0.1", 19999, "172.30.99.2", 81 } };
	for (int k = 0; k < BENCH_ROUNDS; k++) {
		double t0 = now_ms();
		if ((r = nft_ports_add("benchone", p, 2, err)) < 0)
			return r;
		double t1 = now_ms();
		if ((r = nft_ports_remove("benchone", err)) < 0)
			return r;
		add[k] = t1 - t0;
		rm[k] = now_ms() - t1;
	}
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "bench%059d", i);
		if ((r = nft_ports_remove(id, err)) < 0)
			return r;
	}
	qsort(add, BENCH_ROUNDS, sizeof(double), cmp_double);
	qsort(rm, BENCH_ROUNDS, sizeof(double), cmp_double);
	printf("with %d containers published: ports_add median %.3f ms (p90 %.3f), "
	       "ports_remove median %.3f ms (p90 %.3f)\n",
	       n, add[BENCH_ROUNDS / 2], add[BENCH_ROUNDS * 9 / 10], rm[BENCH_ROUNDS / 2],
	       rm[BENCH_ROUNDS * 9 / 10]);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	const char *op = argv[1];
	struct timespec t0, t1;
	int r;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!strcmp(op, "net-add") && (argc == 6 || argc == 7)) {
		struct nft_net n = { .id = argv[2],
				     .bridge = argv[3],
				     .subnet4 = opt(argv[4]),
				     .subnet6 = opt(argv[5]),
				     .internal = argc == 7 && !strcmp(argv[6], "internal") };
		if (argc == 7 && !n.internal)
			return usage();
		r = nft_network_add(&n, &err);
	} else if (!strcmp(op, "net-rm") && argc == 3) {
		r = nft_network_remove(argv[2], &err);
	} else if (!strcmp(op, "ports-add") && argc >= 4) {
		size_t n = (size_t)argc - 3;
		_cleanup_free_ struct nft_port *p = xcalloc(n, sizeof(*p));
		for (size_t i = 0; i < n; i++)
			if (parse_spec(argv[3 + i], &p[i]) < 0) {
				fprintf(stderr, "nft-tool: bad port spec\n");
				return 2;
			}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		r = nft_ports_add(argv[2], p, n, &err);
	} else if (!strcmp(op, "ports-rm") && argc == 3) {
		r = nft_ports_remove(argv[2], &err);
	} else if (!strcmp(op, "reset") && argc == 2) {
		r = nft_reset(&err);
	} else if (!strcmp(op, "bench") && argc == 3) {
		int n = atoi(argv[2]);
		if (n < 0 || n > 10000)
			return usage();
		r = bench(n, &err);
	} else {
		return usage();
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	fprintf(stderr, "nft-tool: %s %.3f ms\n", op, ms);
	if (r < 0) {
		fprintf(stderr, "nft-tool: %s\n", err.msg ? err.msg : strerror(-r));
		return 1;
	}
	return 0;
}
