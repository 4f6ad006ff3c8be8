/* fuzz_dns.c - libFuzzer harness for what berth-dns reads from containers
 * and upstream resolvers (dns_msg.h), and the files it reads (dns_conf.h).
 *
 * Any input is a query that parses and gets a reply that parses back with
 * the same question, or one of the documented refusals; as an upstream reply
 * it is matched and cut without reading outside; as text it parses as a
 * names file and a resolv.conf. Never a crash, leak or undefined behaviour.
 * Run: build-fuzz/tests/fuzz/fuzz_dns tests/fuzz/corpus-dns */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_conf.h"
#include "dns/dns_msg.h"

static void check_query(const uint8_t *data, size_t size)
{
	struct dns_query q;
	int r = dns_query_parse(data, size, &q);
	if (r != 0) {
		if (r != -1 && r != DNS_RCODE_FORMERR && r != DNS_RCODE_NOTIMP)
			__builtin_trap();
		uint8_t out[DNS_HDR_LEN];
		if (r > 0 && dns_error_reply(data, size, (unsigned)r, out, sizeof(out)) != DNS_HDR_LEN)
			__builtin_trap();
		return;
	}
	if (strlen(q.name) >= DNS_NAME_TEXT_MAX || q.qname_len > DNS_NAME_WIRE_MAX)
		__builtin_trap();

	/* A reply with an answer of each kind reads back with the question. */
	static uint8_t out[DNS_TCP_MAX];
	struct dns_resp resp;
	size_t max = dns_udp_max(&q);
	if (dns_resp_init(&resp, out, max, &q, DNS_RCODE_NOERROR) == 0) {
		static const uint8_t addr[16] = { 10, 88, 0, 2 };
		dns_resp_add_addr(&resp, AF_INET, addr, 0);
		dns_resp_add_addr(&resp, AF_INET6, addr, 0);
		dns_resp_add_ptr(&resp, "web", 0);
		size_t len = dns_resp_finish(&resp);
		if (len > max)
			__builtin_trap();
		uint8_t *query = malloc(size);
		if (!query)
			return;
		memcpy(query, data, size);
		if (!dns_reply_matches(query, size, out, len))
			__builtin_trap();
		free(query);
	}

	int family;
	uint8_t a[16];
	if (dns_reverse_parse(q.name, &family, a) == 0) {
		char back[DNS_NAME_TEXT_MAX];
		dns_reverse_name(family, a, back);
		if (strcmp(back, q.name) != 0)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > DNS_TCP_MAX)
		return 0;
	check_query(data, size);

	/* As an upstream's reply: to the query it carries, and cut down. */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	(void)dns_reply_matches(data, size, copy, size);
	size_t t = dns_truncate(copy, size);
	if (t > size)
		__builtin_trap();
	free(copy);

	/* As the names file and resolv.conf. */
	struct dns_hosts h = { 0 };
	if (dns_hosts_parse(&h, (const char *)data, size) == 0) {
		for (size_t i = 0; i < h.n; i++) {
			size_t pos = 0;
			if (!dns_hosts_find(&h, h.v[i].name, &pos))
				__builtin_trap();
			if (!dns_hosts_name_of(&h, h.v[i].family, h.v[i].addr))
				__builtin_trap();
		}
	}
	dns_hosts_free(&h);
	struct sockaddr_storage ss[8];
	(void)dns_resolv_parse((const char *)data, size, ss, 8);

	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	socklen_t sl;
	(void)dns_sockaddr_parse(s, 53, &ss[0], &sl);
	free(s);
	return 0;
}
