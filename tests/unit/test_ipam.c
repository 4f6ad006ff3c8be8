/* test_ipam.c - network records and leases on a temp berth.db: the
 * predefined networks made once, Docker's checks on create (overlap, gateway
 * and ip-range outside the subnet, names, drivers), the automatic subnet,
 * and leases: lowest free, per container idempotent, reuse after release,
 * requested addresses refused for the right reasons, exhaustion, IPv6. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/json.h"
#include "common/rmtree.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "engine/engine.h"
#include "engine/ipam.h"
#include "engine/network.h"
#include "image/store.h"

static char root[] = "/tmp/berth-test-ipam.XXXXXX";
static struct image_store *store;
static struct engine *eng;

static void open_engine(const char *bip)
{
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *run = xasprintf("%s/run", root);
	char *global[] = { NULL };
	struct engine_paths p = { .root = root,
				  .runroot = run,
				  .self = "/bin/false",
				  .monitor = "/bin/false",
				  .global_args = global,
				  .default_bip = bip };
	assert_int_equal(image_store_open(root, &store, &err), 0);
	assert_int_equal(engine_open(&p, store, &eng, &err), 0);
}

static void close_engine(void)
{
	engine_close(eng);
	image_store_close(store);
	eng = NULL;
	store = NULL;
}

static int setup(void **state)
{
	(void)state;
	strcpy(root + strlen(root) - 6, "XXXXXX");
	if (!mkdtemp(root))
		return -1;
	open_engine(NULL);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	close_engine();
	berth_err err = BERTH_ERR_INIT;
	rm_rf_at(AT_FDCWD, root, &err);
	berth_err_clear(&err);
	return 0;
}

/* Create a network from a NetworkCreate body written as JSON; its id, or
 * NULL with *code and *msg set. */
static char *create(const char *body, int *code, char **msg)
{
	_cleanup_json_ json_t *req = json_loads(body, 0, NULL);
	assert_non_null(req);
	berth_err err = BERTH_ERR_INIT;
	char *id = NULL;
	int r = network_create(eng, req, &id, &err);
	if (code)
		*code = r;
	if (msg)
		*msg = err.msg ? xstrdup(err.msg) : NULL;
	if (r == 0 && !code)
		assert_null(err.msg);
	if (r < 0 && !code)
		fail_msg("create %s: %s", body, err.msg);
	berth_err_clear(&err);
	return id;
}

static void create_fails(const char *body, int want, const char *want_msg)
{
	int code = 0;
	_cleanup_free_ char *msg = NULL;
	_cleanup_free_ char *id = create(body, &code, &msg);
	assert_null(id);
	assert_int_equal(code, want);
	if (!msg || !strstr(msg, want_msg))
		fail_msg("%s: got \"%s\", want \"%s\"", body, msg ? msg : "", want_msg);
}

static void get(const char *id, struct network_info *n)
{
	berth_err err = BERTH_ERR_INIT;
	assert_int_equal(network_get(eng, id, n, &err), 0);
}

static char *lease(const char *net, const char *ctr, const char *want)
{
	berth_err err = BERTH_ERR_INIT;
	struct ipam_lease l;
	if (ipam_lease(eng, net, ctr, want, NULL, NULL, NULL, &l, &err) < 0)
		fail_msg("lease %s: %s", ctr, err.msg);
	char *a = xstrdup(l.address);
	ipam_lease_free(&l);
	return a;
}

static void lease_fails(const char *net, const char *ctr, const char *want, int code,
			const char *want_msg)
{
	berth_err err = BERTH_ERR_INIT;
	struct ipam_lease l;
	assert_int_equal(ipam_lease(eng, net, ctr, want, NULL, NULL, NULL, &l, &err), code);
	if (!err.msg || !strstr(err.msg, want_msg))
		fail_msg("lease %s: got \"%s\", want \"%s\"", want ? want : "auto",
			 err.msg ? err.msg : "", want_msg);
	assert_null(l.address);
	berth_err_clear(&err);
}

static void test_cidr(void **state)
{
	(void)state;
	struct ipam_cidr a, b;
	assert_int_equal(ipam_cidr_parse("10.1.2.3/16", &a), 0);
	assert_int_equal(a.family, 4);
	assert_true(a.host_bits);
	_cleanup_free_ char *s = ipam_cidr_format(&a);
	assert_string_equal(s, "10.1.0.0/16");
	assert_int_equal(ipam_cidr_parse("10.1.128.0/17", &b), 0);
	assert_true(ipam_cidr_overlap(&a, &b));
	assert_int_equal(ipam_cidr_parse("10.2.0.0/16", &b), 0);
	assert_false(ipam_cidr_overlap(&a, &b));
	_cleanup_free_ char *last = ipam_addr_format(4, ipam_cidr_last(&a));
	assert_string_equal(last, "10.1.255.255");
	assert_int_equal(ipam_cidr_parse("fd00:1::/64", &a), 0);
	assert_int_equal(a.family, 6);
	_cleanup_free_ char *l6 = ipam_addr_format(6, ipam_cidr_last(&a));
	assert_string_equal(l6, "fd00:1::ffff:ffff:ffff:ffff");
	assert_int_equal(ipam_cidr_parse("::/0", &a), 0);
	assert_true(ipam_cidr_contains(&a, 6, ~(ipam_addr)0));
	const char *bad[] = { "10.0.0.0",  "10.0.0.0/33", "10.0.0/8",    "/8",
			      "10.0.0.0/", "x/8",         "10.0.0.0/8a", "fd00::/129" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(ipam_cidr_parse(bad[i], &a), -EINVAL);
}

static void test_default_networks(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *id1 = NULL, *id2 = NULL;
	assert_int_equal(network_default_id(eng, &id1, &err), 0);
	assert_int_equal(strlen(id1), 64);
	/* A second process (a new engine on the same db) finds them. */
	close_engine();
	open_engine("10.99.0.1/24");
	assert_int_equal(network_default_id(eng, &id2, &err), 0);
	assert_string_equal(id1, id2);
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(network_list(eng, &all, &err), 0);
	assert_int_equal(json_array_size(all), 3);
	const char *names[] = { "bridge", "host", "none" };
	const char *drivers[] = { "bridge", "host", "null" };
	for (size_t i = 0; i < 3; i++) {
		json_t *n = json_array_get(all, i);
		assert_string_equal(json_string_value(json_object_get(n, "Name")), names[i]);
		assert_string_equal(json_string_value(json_object_get(n, "Driver")), drivers[i]);
		assert_string_equal(json_string_value(json_object_get(n, "Scope")), "local");
		_cleanup_free_ char *id = NULL;
		assert_int_equal(network_resolve(eng, names[i], &id, &err), 0);
		assert_int_equal(network_remove(eng, id, &err), -EPERM);
		_cleanup_free_ char *want =
			xasprintf("%s is a pre-defined network and cannot be removed", names[i]);
		assert_string_equal(err.msg, want);
		berth_err_clear(&err);
	}
	struct network_info n;
	get(id1, &n);
	assert_string_equal(n.bridge, "berth0");
	assert_true(n.predefined);
	/* The --bip of the second engine came too late: the automatic pool. */
	assert_true(strncmp(n.subnet4, "172.", 4) == 0 || strncmp(n.subnet4, "192.168.", 8) == 0);
	assert_string_not_equal(n.subnet4, "172.17.0.0/16");
	network_info_free(&n);
	create_fails("{\"Name\":\"bridge\"}", -EEXIST, "network with name bridge already exists");
}

static void test_bip(void **state)
{
	(void)state;
	close_engine();
	open_engine("10.99.0.1/24");
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *id = NULL;
	assert_int_equal(network_default_id(eng, &id, &err), 0);
	struct network_info n;
	get(id, &n);
	assert_string_equal(n.subnet4, "10.99.0.0/24");
	assert_string_equal(n.gateway4, "10.99.0.1");
	network_info_free(&n);
	/* The default network takes no requested address (Docker). */
	lease_fails(id, "c1", "10.99.0.9", -EINVAL, "user defined networks only");
	_cleanup_free_ char *a = lease(id, "c1", NULL);
	assert_string_equal(a, "10.99.0.2");
}

static void test_create_checks(void **state)
{
	(void)state;
	_cleanup_free_ char *id = create("{\"Name\":\"n1\",\"IPAM\":{\"Config\":[{\"Subnet\":"
					 "\"10.10.0.0/16\",\"IPRange\":\"10.10.5.0/24\"}]}}",
					 NULL, NULL);
	struct network_info n;
	get(id, &n);
	assert_string_equal(n.subnet4, "10.10.0.0/16");
	assert_string_equal(n.gateway4, "10.10.0.1");
	assert_string_equal(n.ip_range4, "10.10.5.0/24");
	_cleanup_free_ char *br = xasprintf("br-%.12s", id);
	assert_string_equal(n.bridge, br);
	assert_false(n.predefined);
	network_info_free(&n);
	create_fails("{\"Name\":\"n1\"}", -EEXIST, "network with name n1 already exists");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.10.128.0/24\"}]}}",
		     -EEXIST, "Pool overlaps with other one on this address space");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.0.0.0/8\"}]}}",
		     -EEXIST, "Pool overlaps with other one on this address space");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.20.0.0/16\","
		     "\"Gateway\":\"10.21.0.1\"}]}}",
		     -EINVAL,
		     "invalid gateway 10.21.0.1: not a host address of subnet 10.20.0.0/16");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.20.0.0/16\","
		     "\"Gateway\":\"10.20.255.255\"}]}}",
		     -EINVAL, "invalid gateway 10.20.255.255");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.20.0.0/16\","
		     "\"IPRange\":\"10.21.0.0/24\"}]}}",
		     -EINVAL, "invalid ip-range 10.21.0.0/24: not inside subnet 10.20.0.0/16");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.20.0.0/16\","
		     "\"IPRange\":\"10.0.0.0/8\"}]}}",
		     -EINVAL, "invalid ip-range 10.0.0.0/8");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.20.1.0/16\"}]}}",
		     -EINVAL, "invalid subnet 10.20.1.0/16: it should be 10.20.0.0/16");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Subnet\":\"bogus\"}]}}", -EINVAL,
		     "invalid subnet bogus");
	create_fails("{\"Name\":\"n2\",\"IPAM\":{\"Config\":[{\"Gateway\":\"10.20.0.1\"}]}}",
		     -EINVAL, "every ip-range or gateway must have a corresponding subnet");
	create_fails("{\"Name\":\"n2\",\"Driver\":\"overlay\"}", -ENOENT, "plugin \"overlay\"");
	create_fails("{\"Name\":\"n2\",\"Driver\":\"host\"}", -EPERM,
		     "only one instance of \"host\" network is allowed");
	create_fails("{\"Name\":\"n2\",\"EnableIPv6\":true}", -EINVAL, "IPv6 needs an IPv6");
	create_fails("{\"Name\":\"a b\"}", -EINVAL, "invalid network name");
	create_fails("{\"Name\":\"n2\",\"Options\":{\"com.docker.network.bridge.name\":"
		     "\"abcdefghijklmnop\"}}",
		     -EINVAL, "abcdefghijklmnop");
	_cleanup_free_ char *id3 = create(
		"{\"Name\":\"n3\",\"Options\":{\"com.docker.network.bridge.name\":\"mybr\"}}", NULL,
		NULL);
	create_fails("{\"Name\":\"n4\",\"Options\":{\"com.docker.network.bridge.name\":\"mybr\"}}",
		     -EEXIST, "networks have same bridge name");
	/* Nothing half-made by the failures. */
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(network_list(eng, &all, &err), 0);
	assert_int_equal(json_array_size(all), 5);
}

static void test_auto_subnet(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *def = NULL;
	assert_int_equal(network_default_id(eng, &def, &err), 0);
	struct network_info d, a, b;
	get(def, &d);
	/* Take the pool after the default's by hand (the default's is the first
	 * free of the host's routes): the automatic one skips it. */
	int second = 0;
	assert_int_equal(sscanf(d.subnet4, "172.%d.0.0/16", &second), 1);
	_cleanup_free_ char *next = xasprintf("172.%d.0.0/16", second + 1);
	_cleanup_free_ char *body = xasprintf(
		"{\"Name\":\"taken\",\"IPAM\":{\"Config\":[{\"Subnet\":\"%s\"}]}}", next);
	_cleanup_free_ char *taken = create(body, NULL, NULL);
	_cleanup_free_ char *ida = create("{\"Name\":\"a\"}", NULL, NULL);
	_cleanup_free_ char *idb = create("{\"Name\":\"b\"}", NULL, NULL);
	get(ida, &a);
	get(idb, &b);
	struct ipam_cidr cd, ca, cb, ct;
	assert_int_equal(ipam_cidr_parse(d.subnet4, &cd), 0);
	assert_int_equal(ipam_cidr_parse(a.subnet4, &ca), 0);
	assert_int_equal(ipam_cidr_parse(b.subnet4, &cb), 0);
	assert_int_equal(ipam_cidr_parse(next, &ct), 0);
	assert_false(ipam_cidr_overlap(&ca, &cd));
	assert_false(ipam_cidr_overlap(&ca, &ct));
	assert_false(ipam_cidr_overlap(&cb, &ca));
	assert_false(ipam_cidr_overlap(&cb, &ct));
	struct ipam_cidr docker0;
	assert_int_equal(ipam_cidr_parse("172.17.0.0/16", &docker0), 0);
	assert_false(ipam_cidr_overlap(&ca, &docker0));
	assert_false(ipam_cidr_overlap(&cd, &docker0));
	assert_true(ca.net < cb.net); /* in the pools' order */
	_cleanup_free_ char *gw = ipam_addr_format(4, ca.net + 1);
	assert_string_equal(a.gateway4, gw);
	network_info_free(&d);
	network_info_free(&a);
	network_info_free(&b);
}

static void test_leases(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *id =
		create("{\"Name\":\"l\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.30.0.0/24\"}]}}",
		       NULL, NULL);
	_cleanup_free_ char *a1 = lease(id, "c1", NULL);
	_cleanup_free_ char *a2 = lease(id, "c2", NULL);
	_cleanup_free_ char *a3 = lease(id, "c3", NULL);
	assert_string_equal(a1, "10.30.0.2");
	assert_string_equal(a2, "10.30.0.3");
	assert_string_equal(a3, "10.30.0.4");
	/* Idempotent per container, even when asked for another address. */
	_cleanup_free_ char *again = lease(id, "c2", "10.30.0.50");
	assert_string_equal(again, "10.30.0.3");
	/* The lowest free after a release. */
	assert_int_equal(ipam_release(eng, id, "c2", &err), 0);
	assert_int_equal(ipam_release(eng, id, "c2", &err), 0);
	_cleanup_free_ char *a4 = lease(id, "c4", NULL);
	assert_string_equal(a4, "10.30.0.3");
	/* Requested addresses. */
	_cleanup_free_ char *s = lease(id, "c5", "10.30.0.100");
	assert_string_equal(s, "10.30.0.100");
	lease_fails(id, "c6", "10.30.0.100", -EADDRINUSE, "Address already in use");
	lease_fails(id, "c6", "10.30.0.1", -EADDRINUSE, "is the gateway of network l");
	lease_fails(id, "c6", "10.30.1.7", -EINVAL, "is not in network l's subnet 10.30.0.0/24");
	lease_fails(id, "c6", "10.30.0.0", -EINVAL, "network address");
	lease_fails(id, "c6", "10.30.0.255", -EINVAL, "broadcast address");
	lease_fails(id, "c6", "fd00::1", -EINVAL, "invalid IPv4 address");
	/* What the lease carries; what inspect and the per-container list show. */
	struct ipam_lease l;
	_cleanup_json_ json_t *ep = json_pack("{s:[s]}", "Aliases", "web");
	assert_int_equal(ipam_lease(eng, id, "c7", NULL, NULL, NULL, ep, &l, &err), 0);
	assert_string_equal(l.address, "10.30.0.5");
	assert_int_equal(l.prefix, 24);
	assert_string_equal(l.gateway, "10.30.0.1");
	assert_string_equal(l.mac, "02:42:0a:1e:00:05");
	assert_null(l.address6);
	assert_int_equal(strlen(l.endpoint_id), 64);
	ipam_lease_free(&l);
	assert_int_equal(ipam_lease(eng, id, "c8", NULL, NULL, "02:AA:bb:cc:dd:ee", NULL, &l, &err),
			 0);
	assert_string_equal(l.mac, "02:aa:bb:cc:dd:ee");
	ipam_lease_free(&l);
	_cleanup_json_ json_t *mine = NULL;
	assert_int_equal(ipam_container_leases(eng, "c7", &mine, &err), 0);
	assert_int_equal(json_array_size(mine), 1);
	json_t *m = json_array_get(mine, 0);
	assert_string_equal(json_string_value(json_object_get(m, "network")), "l");
	assert_string_equal(json_string_value(json_object_get(m, "address")), "10.30.0.5");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(json_object_get(m, "endpoint"), "Aliases"), 0)),
			    "web");
	_cleanup_json_ json_t *ins = NULL;
	assert_int_equal(network_inspect_json(eng, id, &ins, &err), 0);
	json_t *c7 = json_object_get(json_object_get(ins, "Containers"), "c7");
	assert_non_null(c7);
	assert_string_equal(json_string_value(json_object_get(c7, "IPv4Address")), "10.30.0.5/24");
	assert_string_equal(json_string_value(json_object_get(c7, "MacAddress")),
			    "02:42:0a:1e:00:05");
	/* A network with leases is not removed, nor pruned. */
	assert_int_equal(network_remove(eng, id, &err), -EBUSY);
	_cleanup_free_ char *want =
		xasprintf("error while removing network: network l id %s has active endpoints", id);
	assert_string_equal(err.msg, want);
	berth_err_clear(&err);
	_cleanup_strv_ char **pruned = NULL;
	assert_int_equal(network_prune(eng, NULL, &pruned, &err), 0);
	assert_null(pruned[0]);
	for (const char *c = "12345678"; *c; c++) {
		char ctr[3] = { 'c', *c, 0 };
		assert_int_equal(ipam_release_all(eng, ctr, &err), 0);
	}
	_cleanup_json_ json_t *none = NULL;
	assert_int_equal(ipam_network_leases(eng, id, &none, &err), 0);
	assert_int_equal(json_array_size(none), 0);
	assert_int_equal(network_remove(eng, id, &err), 0);
	assert_int_equal(network_resolve(eng, "l", &(char *){ NULL }, &err), -ENOENT);
	assert_string_equal(err.msg, "network l not found");
	berth_err_clear(&err);
}

static void test_range_and_exhaustion(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	/* A /30: two host addresses, one is the gateway. */
	_cleanup_free_ char *id =
		create("{\"Name\":\"tiny\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.40.0.0/30\"}]}}",
		       NULL, NULL);
	_cleanup_free_ char *a = lease(id, "c1", NULL);
	assert_string_equal(a, "10.40.0.2");
	lease_fails(id, "c2", NULL, -ENOSPC, "no available IPv4 addresses on network tiny");
	assert_int_equal(ipam_release(eng, id, "c1", &err), 0);
	_cleanup_free_ char *b = lease(id, "c2", NULL);
	assert_string_equal(b, "10.40.0.2");
	/* Automatic addresses come from the range; requested ones from the subnet. */
	_cleanup_free_ char *r = create("{\"Name\":\"ranged\",\"IPAM\":{\"Config\":[{\"Subnet\":"
					"\"10.41.0.0/16\",\"IPRange\":\"10.41.7.0/30\",\"Gateway\":"
					"\"10.41.7.1\"}]}}",
					NULL, NULL);
	_cleanup_free_ char *r1 = lease(r, "c1", NULL);
	_cleanup_free_ char *r2 = lease(r, "c2", NULL);
	assert_string_equal(r1, "10.41.7.0");
	assert_string_equal(r2, "10.41.7.2");
	_cleanup_free_ char *r3 = lease(r, "c3", NULL);
	assert_string_equal(r3, "10.41.7.3");
	lease_fails(r, "c4", NULL, -ENOSPC, "its pool 10.41.7.0/30 is full");
	_cleanup_free_ char *r4 = lease(r, "c4", "10.41.9.9");
	assert_string_equal(r4, "10.41.9.9");
}

static void test_ipv6(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *id =
		create("{\"Name\":\"v6\",\"EnableIPv6\":true,\"IPAM\":{\"Config\":[{\"Subnet\":"
		       "\"10.50.0.0/24\"},{\"Subnet\":\"fd00:50::/64\"}]}}",
		       NULL, NULL);
	create_fails(
		"{\"Name\":\"v6b\",\"IPAM\":{\"Config\":[{\"Subnet\":\"fd00:50:0:0:1::/80\"}]}}",
		-EEXIST, "Pool overlaps");
	struct ipam_lease l;
	assert_int_equal(ipam_lease(eng, id, "c1", NULL, NULL, NULL, NULL, &l, &err), 0);
	assert_string_equal(l.address, "10.50.0.2");
	assert_string_equal(l.address6, "fd00:50::2");
	assert_int_equal(l.prefix6, 64);
	assert_string_equal(l.gateway6, "fd00:50::1");
	ipam_lease_free(&l);
	assert_int_equal(ipam_lease(eng, id, "c2", NULL, "fd00:50::2", NULL, NULL, &l, &err),
			 -EADDRINUSE);
	berth_err_clear(&err);
	assert_int_equal(ipam_lease(eng, id, "c2", NULL, "fd00:50::abcd", NULL, NULL, &l, &err), 0);
	assert_string_equal(l.address, "10.50.0.3");
	assert_string_equal(l.address6, "fd00:50::abcd");
	ipam_lease_free(&l);
	/* Both families of c1 come back as one lease. */
	assert_int_equal(ipam_lease(eng, id, "c1", NULL, NULL, NULL, NULL, &l, &err), 0);
	assert_string_equal(l.address6, "fd00:50::2");
	ipam_lease_free(&l);
	_cleanup_json_ json_t *ins = NULL;
	assert_int_equal(network_inspect_json(eng, id, &ins, &err), 0);
	assert_true(json_is_true(json_object_get(ins, "EnableIPv6")));
	json_t *cfg = json_object_get(json_object_get(ins, "IPAM"), "Config");
	assert_int_equal(json_array_size(cfg), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(cfg, 1), "Subnet")),
			    "fd00:50::/64");
	assert_string_equal(
		json_string_value(json_object_get(
			json_object_get(json_object_get(ins, "Containers"), "c2"), "IPv6Address")),
		"fd00:50::abcd/64");
}

static void test_prune(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *a =
		create("{\"Name\":\"pa\",\"Labels\":{\"keep\":\"no\"}}", NULL, NULL);
	_cleanup_free_ char *b =
		create("{\"Name\":\"pb\",\"Labels\":{\"keep\":\"yes\"}}", NULL, NULL);
	_cleanup_free_ char *c = create("{\"Name\":\"pc\"}", NULL, NULL);
	_cleanup_free_ char *l = lease(c, "x", NULL);
	_cleanup_json_ json_t *filters = json_pack("[s]", "!keep=yes");
	_cleanup_strv_ char **pruned = NULL;
	assert_int_equal(network_prune(eng, filters, &pruned, &err), 0);
	assert_string_equal(pruned[0], "pa");
	assert_null(pruned[1]);
	_cleanup_strv_ char **pruned2 = NULL;
	assert_int_equal(network_prune(eng, NULL, &pruned2, &err), 0);
	assert_string_equal(pruned2[0], "pb");
	assert_null(pruned2[1]);
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(network_list(eng, &all, &err), 0);
	assert_int_equal(json_array_size(all), 4); /* bridge, host, none, pc */
}

static int teardown_calls;
static int teardown_hook(struct engine *e, const char *id, const char *bridge, berth_err *err)
{
	(void)e;
	(void)id;
	teardown_calls++;
	if (strcmp(bridge, "failbr") == 0)
		return berth_error_code(err, EIO, "cannot delete %s", bridge);
	return 0;
}

static void test_teardown_hook(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	network_teardown_hook = teardown_hook;
	_cleanup_free_ char *a = create(
		"{\"Name\":\"h1\",\"Options\":{\"com.docker.network.bridge.name\":\"failbr\"}}",
		NULL, NULL);
	assert_int_equal(network_remove(eng, a, &err), -EIO);
	assert_string_equal(err.msg, "error while removing network h1: cannot delete failbr");
	berth_err_clear(&err);
	_cleanup_free_ char *still = NULL;
	assert_int_equal(network_resolve(eng, "h1", &still, &err), 0);
	_cleanup_free_ char *b = create("{\"Name\":\"h2\"}", NULL, NULL);
	assert_int_equal(network_remove(eng, b, &err), 0);
	assert_int_equal(teardown_calls, 2);
	network_teardown_hook = NULL;
}

/* Children racing on one root, each with its own connection as separate
 * berth processes would: run fn in n of them, each writing a line to the pipe. */
static char *race(int n, void (*fn)(int i, int out))
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	for (int i = 0; i < n; i++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(p[0]);
			fn(i, p[1]);
			_exit(0);
		}
	}
	close(p[1]);
	struct strbuf sb = STRBUF_INIT;
	char buf[4096];
	ssize_t got;
	while ((got = read(p[0], buf, sizeof(buf))) > 0)
		strbuf_add(&sb, buf, (size_t)got);
	close(p[0]);
	int status;
	while (wait(&status) > 0)
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return strbuf_detach(&sb, NULL);
}

static void child_engine(struct image_store **s, struct engine **e)
{
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *run = xasprintf("%s/run", root);
	char *global[] = { NULL };
	struct engine_paths p = { .root = root,
				  .runroot = run,
				  .self = "/bin/false",
				  .monitor = "/bin/false",
				  .global_args = global };
	if (image_store_open(root, s, &err) < 0 || engine_open(&p, *s, e, &err) < 0) {
		fprintf(stderr, "open: %s\n", err.msg);
		_exit(1);
	}
}

static void default_child(int i, int out)
{
	(void)i;
	struct image_store *s;
	struct engine *e;
	child_engine(&s, &e);
	berth_err err = BERTH_ERR_INIT;
	char *id = NULL;
	if (network_default_id(e, &id, &err) < 0) {
		fprintf(stderr, "default: %s\n", err.msg);
		_exit(1);
	}
	dprintf(out, "%s\n", id);
}

static const char *race_net;

static void lease_child(int i, int out)
{
	struct image_store *s;
	struct engine *e;
	child_engine(&s, &e);
	for (int k = 0; k < 5; k++) {
		berth_err err = BERTH_ERR_INIT;
		struct ipam_lease l;
		char ctr[32];
		snprintf(ctr, sizeof(ctr), "c%d-%d", i, k);
		if (ipam_lease(e, race_net, ctr, NULL, NULL, NULL, NULL, &l, &err) < 0) {
			fprintf(stderr, "lease: %s\n", err.msg);
			_exit(1);
		}
		dprintf(out, "%s\n", l.address);
		ipam_lease_free(&l);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_races(void **state)
{
	(void)state;
	/* First use by many at once: one set of predefined networks. */
	_cleanup_free_ char *ids = race(8, default_child);
	char *first_nl = strchr(ids, '\n');
	assert_non_null(first_nl);
	size_t len = (size_t)(first_nl - ids) + 1;
	for (size_t off = 0; ids[off]; off += len)
		assert_memory_equal(ids + off, ids, len);
	berth_err err = BERTH_ERR_INIT;
	_cleanup_json_ json_t *all = NULL;
	assert_int_equal(network_list(eng, &all, &err), 0);
	assert_int_equal(json_array_size(all), 3);
	/* Leases by many at once: all different. */
	_cleanup_free_ char *id =
		create("{\"Name\":\"race\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.60.0.0/24\"}]}}",
		       NULL, NULL);
	race_net = id;
	_cleanup_free_ char *addrs = race(8, lease_child);
	char *v[40];
	size_t n = 0;
	for (char *save = NULL, *t = strtok_r(addrs, "\n", &save); t;
	     t = strtok_r(NULL, "\n", &save)) {
		assert_true(n < 40);
		v[n++] = t;
	}
	assert_int_equal(n, 40);
	qsort(v, n, sizeof(*v), cmp_str);
	for (size_t i = 1; i < n; i++)
		assert_string_not_equal(v[i - 1], v[i]);
	/* And they are the 40 lowest. */
	_cleanup_free_ char *next = lease(id, "after", NULL);
	assert_string_equal(next, "10.60.0.42");
}

static void test_resolve(void **state)
{
	(void)state;
	berth_err err = BERTH_ERR_INIT;
	_cleanup_free_ char *id = create("{\"Name\":\"r1\"}", NULL, NULL);
	_cleanup_free_ char *p = xstrndup(id, 12), *byp = NULL, *byn = NULL;
	assert_int_equal(network_resolve(eng, p, &byp, &err), 0);
	assert_string_equal(byp, id);
	assert_int_equal(network_resolve(eng, "r1", &byn, &err), 0);
	assert_string_equal(byn, id);
	_cleanup_free_ char *x = NULL;
	assert_int_equal(network_resolve(eng, "nope", &x, &err), -ENOENT);
	assert_string_equal(err.msg, "network nope not found");
	berth_err_clear(&err);
}

int main(void)
{
	network_teardown_hook = NULL; /* no rules or bridges of the host touched */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cidr),
		cmocka_unit_test_setup_teardown(test_default_networks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_subnet, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_range_and_exhaustion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_teardown_hook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_races, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
