/* nft-tool - drive net/nft.c from the shell, for the system tests and by hand.
 *
 *   nft-tool net-add ID BRIDGE SUBNET4|- SUBNET6|- [internal]
 *   nft-tool net-rm ID
 *   nft-tool ports-add CTR PROTO:HOSTIP:HOSTPORT:CTRIP:CTRPORT...   (HOSTIP may be empty)
 *   nft-tool ports-rm CTR
 *   nft-tool reset
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
