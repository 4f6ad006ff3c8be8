/* test_dns.c - berth-dns's message code reads names and queries as RFC 1035
 * says and refuses what a hostile container could send (truncations, pointer
 * loops, oversized labels and names); its replies read back as a resolver
 * would read them; the names file, resolv.conf and address arguments parse
 * as the engine and the host write them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "dns/dns_conf.h"
#include "dns/dns_msg.h"

/* A query as a stub resolver sends it: ID 0x1234, RD, one question. */
static size_t build_query(uint8_t *buf, const char *name, uint16_t qtype)
{
	static const uint8_t hdr[] = { 0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0 };
	memcpy(buf, hdr, sizeof(hdr));
	int n = dns_name_encode(name, buf + 12);
	assert_true(n > 0);
	size_t len = 12 + (size_t)n;
	buf[len++] = (uint8_t)(qtype >> 8);
	buf[len++] = (uint8_t)qtype;
	buf[len++] = 0;
	buf[len++] = 1;
	return len;
}

/* Append an OPT record (udp size, version) and count it. */
static size_t add_opt(uint8_t *buf, size_t len, uint16_t size, uint8_t version)
{
	const uint8_t opt[] = { 0, 0, 41, (uint8_t)(size >> 8), (uint8_t)size, 0, version, 0,
				0, 0, 0 };
	memcpy(buf + len, opt, sizeof(opt));
	buf[11]++;
	return len + sizeof(opt);
}

static int decode_text(const uint8_t *msg, size_t len, size_t off, char *text)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl;
	int r = dns_name_decode(msg, len, &off, wire, &wl);
	if (r == 0)
		dns_name_text(wire, text);
	return r;
}

static void test_name_decode_plain_and_compressed(void **state)
{
	(void)state;
	/* header, "www.Example.com" at 12, then "mail" + pointer to "Example.com" */
	uint8_t m[64] = { 0 };
	size_t o = 12;
	memcpy(m + o, "\3www\7Example\3com\0", 17);
	o += 17;
	memcpy(m + o, "\4mail\xc0\x10", 7);
	char text[DNS_NAME_TEXT_MAX];
	assert_int_equal(decode_text(m, o + 7, 12, text), 0);
	assert_string_equal(text, "www.example.com");
	size_t off = o;
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl;
	assert_int_equal(dns_name_decode(m, o + 7, &off, wire, &wl), 0);
	assert_int_equal(off, o + 7); /* past the pointer, not where it led */
	assert_int_equal(wl, 18);
	dns_name_text(wire, text);
	assert_string_equal(text, "mail.example.com");
	/* The root. */
	uint8_t root[13] = { 0 };
	assert_int_equal(decode_text(root, 13, 12, text), 0);
	assert_string_equal(text, "");
}

static void test_name_decode_refuses_hostile(void **state)
{
	(void)state;
	char text[DNS_NAME_TEXT_MAX];
	uint8_t m[600] = { 0 };

	/* A pointer to itself, to a later offset, into the header. */
	memcpy(m + 12, "\xc0\x0c", 2);
	assert_int_equal(decode_text(m, 14, 12, text), -EBADMSG);
	memcpy(m + 12, "\xc0\x10\0\0\1a\0", 7);
	assert_int_equal(decode_text(m, 19, 12, text), -EBADMSG);
	memcpy(m + 12, "\xc0\x02", 2);
	assert_int_equal(decode_text(m, 14, 12, text), -EBADMSG);
	/* Two names pointing at each other: 20 -> 12 -> ... -> 20. */
	memcpy(m + 12, "\1a\1b\1c\xc0\x14", 8);
	memcpy(m + 20, "\1d\xc0\x0c", 4);
	assert_int_equal(decode_text(m, 24, 20, text), -EBADMSG);
	/* A label running past the end; a name without its root; a cut pointer. */
	memcpy(m + 12, "\5ab", 3);
	assert_int_equal(decode_text(m, 15, 12, text), -EBADMSG);
	memcpy(m + 12, "\2ab", 3);
	assert_int_equal(decode_text(m, 15, 12, text), -EBADMSG);
	memcpy(m + 12, "\2ab\xc0", 4);
	assert_int_equal(decode_text(m, 16, 12, text), -EBADMSG);
	/* Nothing at all. */
	assert_int_equal(decode_text(m, 12, 12, text), -EBADMSG);
	/* Label length bytes 0x40 and 0x80 (64 and over): not labels. */
	m[12] = 64;
	assert_int_equal(decode_text(m, sizeof(m), 12, text), -EBADMSG);
	m[12] = 0x80;
	assert_int_equal(decode_text(m, sizeof(m), 12, text), -EBADMSG);

	/* 255 bytes is the most: 4 labels of 63 + 1 label of 1 = 4*64+2+1 = 259 (no),
	 * 3 of 63 + 1 of 61 = 192 + 62 + 1 = 255 (yes). */
	size_t o = 12;
	for (int i = 0; i < 3; i++) {
		m[o++] = 63;
		memset(m + o, 'a', 63);
		o += 63;
	}
	m[o++] = 61;
	memset(m + o, 'b', 61);
	o += 61;
	m[o++] = 0;
	assert_int_equal(o - 12, 255);
	assert_int_equal(decode_text(m, o, 12, text), 0);
	assert_int_equal(strlen(text), 253);
	m[o - 63]++; /* the last label one longer: 256 */
	memmove(m + o, m + o - 1, 1);
	m[o - 1] = 'b';
	assert_int_equal(decode_text(m, o + 1, 12, text), -EBADMSG);

	/* Over 255 through compression: a long name, then one adding to it. */
	o = 12;
	for (int i = 0; i < 3; i++) {
		m[o++] = 63;
		memset(m + o, 'a', 63);
		o += 63;
	}
	m[o++] = 0;
	size_t second = o;
	m[o++] = 63;
	memset(m + o, 'c', 63);
	o += 63;
	m[o++] = 0xc0;
	m[o++] = 12;
	assert_int_equal(decode_text(m, o, 12, text), 0);
	assert_int_equal(decode_text(m, o, second, text), -EBADMSG);
}

static void test_name_text_lowercases_and_escapes(void **state)
{
	(void)state;
	const uint8_t wire[] = { 3, 'W', 'e', 'B', 3, 'a', '.', 'b', 2, '\\', 0x01, 0 };
	char text[DNS_NAME_TEXT_MAX];
	assert_int_equal(dns_name_text(wire, text), strlen("web.a\\046b.\\092\\001"));
	/* A dot inside a label cannot pass for a separator. */
	assert_string_equal(text, "web.a\\046b.\\092\\001");
}

static void test_name_encode(void **state)
{
	(void)state;
	uint8_t w[DNS_NAME_WIRE_MAX];
	assert_int_equal(dns_name_encode("web.net.", w), 9);
	assert_memory_equal(w, "\3web\3net\0", 9);
	assert_int_equal(dns_name_encode("", w), 1);
	assert_int_equal(dns_name_encode("a..b", w), -EINVAL);
	assert_int_equal(dns_name_encode(".a", w), -EINVAL);
	char l64[80];
	memset(l64, 'x', 64);
	l64[64] = '\0';
	assert_int_equal(dns_name_encode(l64, w), -EINVAL);
	l64[63] = '\0';
	assert_int_equal(dns_name_encode(l64, w), 65);
	char big[300];
	memset(big, 'a', sizeof(big));
	for (size_t i = 50; i < sizeof(big); i += 51)
		big[i] = '.';
	big[254] = '\0'; /* 254 chars: 256 bytes of wire */
	assert_int_equal(dns_name_encode(big, w), -EINVAL);
	big[253] = '\0';
	assert_int_equal(dns_name_encode(big, w), 255);
}

static void test_query_parse(void **state)
{
	(void)state;
	uint8_t m[512];
	size_t n = build_query(m, "Web.Example.", DNS_TYPE_AAAA);
	struct dns_query q;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_TYPE_AAAA);
	assert_int_equal(q.qclass, DNS_CLASS_IN);
	assert_string_equal(q.name, "web.example");
	assert_int_equal(q.qname_len, 13);
	assert_memory_equal(q.qname, "\3Web\7Example\0", 13);
	assert_false(q.edns);
	assert_int_equal(dns_udp_max(&q), 512);

	n = add_opt(m, n, 4096, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_true(q.edns);
	assert_int_equal(q.edns_udp_size, 4096);
	assert_int_equal(dns_udp_max(&q), DNS_UDP_EDNS_MAX);
	q.edns_udp_size = 100;
	assert_int_equal(dns_udp_max(&q), 512);
}

static void test_query_parse_refuses(void **state)
{
	(void)state;
	uint8_t m[512];
	struct dns_query q;
	size_t n = build_query(m, "web", DNS_TYPE_A);

	assert_int_equal(dns_query_parse(m, 11, &q), -1); /* no header */
	m[2] |= 0x80;                                     /* a response */
	assert_int_equal(dns_query_parse(m, n, &q), -1);
	m[2] = 0x01 | (2 << 3); /* opcode STATUS */
	assert_int_equal(dns_query_parse(m, n, &q), DNS_RCODE_NOTIMP);
	m[2] = 0x01;
	m[5] = 0;
	assert_int_equal(dns_query_parse(m, n, &q), DNS_RCODE_FORMERR);
	m[5] = 2;
	assert_int_equal(dns_query_parse(m, n, &q), DNS_RCODE_FORMERR);
	m[5] = 1;
	/* Every cut shorter than the question. */
	for (size_t cut = 12; cut < n; cut++)
		assert_int_equal(dns_query_parse(m, cut, &q), DNS_RCODE_FORMERR);
	/* An additional record announced but absent. */
	m[11] = 1;
	assert_int_equal(dns_query_parse(m, n, &q), DNS_RCODE_FORMERR);
	m[11] = 0;
	/* Two OPT records. */
	size_t e = add_opt(m, n, 1232, 0);
	e = add_opt(m, e, 1232, 0);
	assert_int_equal(dns_query_parse(m, e, &q), DNS_RCODE_FORMERR);
	/* An OPT whose owner is not the root. */
	m[11] = 0;
	e = add_opt(m, n, 1232, 0);
	memmove(m + n + 3, m + n + 1, 10);
	m[n] = 1;
	m[n + 1] = 'x';
	m[n + 2] = 0;
	assert_int_equal(dns_query_parse(m, e + 2, &q), DNS_RCODE_FORMERR);
	/* An RDLENGTH running past the end. */
	m[11] = 0;
	e = add_opt(m, n, 1232, 0);
	m[e - 1] = 8;
	assert_int_equal(dns_query_parse(m, e, &q), DNS_RCODE_FORMERR);
}

/* Minimal reader of our replies: the answers' types and rdata. */
struct rr {
	uint16_t type;
	uint32_t ttl;
	uint8_t rdata[256];
	size_t rdlen;
	char target[DNS_NAME_TEXT_MAX];
};

static unsigned read_answers(const uint8_t *m, size_t len, struct rr *out, unsigned max)
{
	size_t off = 12;
	assert_int_equal(dns_name_decode(m, len, &off, NULL, NULL), 0);
	off += 4;
	unsigned an = (unsigned)(m[6] << 8 | m[7]);
	assert_true(an <= max);
	for (unsigned i = 0; i < an; i++) {
		/* The owner is a pointer to the question's name. */
		assert_int_equal(m[off], 0xc0);
		assert_int_equal(m[off + 1], 12);
		off += 2;
		out[i].type = (uint16_t)(m[off] << 8 | m[off + 1]);
		assert_int_equal(m[off + 3], DNS_CLASS_IN);
		out[i].ttl = (uint32_t)m[off + 4] << 24 | (uint32_t)m[off + 5] << 16 |
			     (uint32_t)m[off + 6] << 8 | m[off + 7];
		out[i].rdlen = (size_t)(m[off + 8] << 8 | m[off + 9]);
		off += 10;
		assert_true(off + out[i].rdlen <= len);
		memcpy(out[i].rdata, m + off, out[i].rdlen);
		if (out[i].type == DNS_TYPE_PTR)
			assert_int_equal(decode_text(m, len, off, out[i].target), 0);
		off += out[i].rdlen;
	}
	return an;
}

static void test_resp_answers(void **state)
{
	(void)state;
	uint8_t m[512], out[512];
	size_t n = build_query(m, "DB", DNS_TYPE_ANY);
	struct dns_query q;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	struct dns_resp r;
	assert_int_equal(dns_resp_init(&r, out, sizeof(out), &q, DNS_RCODE_NOERROR), 0);
	uint8_t v4[4] = { 10, 88, 0, 3 }, v6[16] = { 0xfd, 0, [15] = 3 };
	assert_int_equal(dns_resp_add_addr(&r, AF_INET, v4, 600), 0);
	assert_int_equal(dns_resp_add_addr(&r, AF_INET6, v6, 600), 0);
	size_t len = dns_resp_finish(&r);

	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x34);
	/* QR, AA, RD (from the query); RA; NOERROR; the question as asked. */
	assert_int_equal(out[2], 0x85);
	assert_int_equal(out[3], 0x80);
	assert_int_equal(out[5], 1);
	assert_memory_equal(out + 12, "\2DB\0\0\xff\0\1", 8);
	assert_int_equal(out[11], 0); /* no OPT: the query had none */
	struct rr rr[4];
	assert_int_equal(read_answers(out, len, rr, 4), 2);
	assert_int_equal(rr[0].type, DNS_TYPE_A);
	assert_int_equal(rr[0].ttl, 600);
	assert_int_equal(rr[0].rdlen, 4);
	assert_memory_equal(rr[0].rdata, v4, 4);
	assert_int_equal(rr[1].type, DNS_TYPE_AAAA);
	assert_memory_equal(rr[1].rdata, v6, 16);
	/* What we send, an upstream-style reader accepts as the answer. */
	assert_true(dns_reply_matches(m, n, out, len));

	n = build_query(m, "2.0.88.10.in-addr.arpa", DNS_TYPE_PTR);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(dns_resp_init(&r, out, sizeof(out), &q, DNS_RCODE_NOERROR), 0);
	assert_int_equal(dns_resp_add_ptr(&r, "web", 0), 0);
	assert_int_equal(dns_resp_add_ptr(&r, "a..b", 0), -EINVAL);
	len = dns_resp_finish(&r);
	assert_int_equal(read_answers(out, len, rr, 4), 1);
	assert_int_equal(rr[0].type, DNS_TYPE_PTR);
	assert_string_equal(rr[0].target, "web");
}

static void test_resp_truncates_at_512_without_edns(void **state)
{
	(void)state;
	uint8_t m[512], out[DNS_UDP_EDNS_MAX];
	size_t n = build_query(m, "many", DNS_TYPE_A);
	struct dns_query q;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	struct dns_resp r;
	assert_int_equal(dns_resp_init(&r, out, dns_udp_max(&q), &q, 0), 0);
	uint8_t v4[4] = { 10, 0, 0, 0 };
	int added = 0;
	for (int i = 0; i < 100; i++, v4[3]++)
		if (dns_resp_add_addr(&r, AF_INET, v4, 0) == 0)
			added++;
	size_t len = dns_resp_finish(&r);
	/* 12 + 10 of question = 22; 16 an A record: (512 - 22) / 16 = 30. */
	assert_int_equal(added, 30);
	assert_true(len <= 512);
	assert_true(out[2] & 0x02); /* TC */
	struct rr rr[40];
	assert_int_equal(read_answers(out, len, rr, 40), 30);

	/* With EDNS0 of 4096 they all fit, and an OPT closes the reply. */
	n = add_opt(m, n, 4096, 0);
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(dns_resp_init(&r, out, dns_udp_max(&q), &q, 0), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(dns_resp_add_addr(&r, AF_INET, v4, 0), 0);
	len = dns_resp_finish(&r);
	assert_false(out[2] & 0x02);
	assert_int_equal(out[11], 1);
	assert_memory_equal(out + len - 11, "\0\0\x29", 3);

	/* No room even for the question. */
	assert_int_equal(dns_resp_init(&r, out, 20, &q, 0), -ENOSPC);
}

static void test_resp_badvers_goes_into_opt(void **state)
{
	(void)state;
	uint8_t m[512], out[512];
	size_t n = build_query(m, "web", DNS_TYPE_A);
	n = add_opt(m, n, 1232, 1);
	struct dns_query q;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	assert_int_equal(q.edns_version, 1);
	struct dns_resp r;
	assert_int_equal(dns_resp_init(&r, out, sizeof(out), &q, DNS_RCODE_BADVERS), 0);
	size_t len = dns_resp_finish(&r);
	assert_int_equal(out[3] & 0xf, 0);
	/* OPT TTL: extended rcode 1 (16 >> 4), version 0. */
	assert_int_equal(out[len - 6], 1);
	assert_int_equal(out[len - 5], 0);
}

static void test_error_reply(void **state)
{
	(void)state;
	uint8_t m[512], out[512];
	size_t n = build_query(m, "web", DNS_TYPE_A);
	m[5] = 2;
	assert_int_equal(dns_error_reply(m, n, DNS_RCODE_FORMERR, out, sizeof(out)), 12);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x34);
	assert_int_equal(out[2], 0x81);
	assert_int_equal(out[3], 0x81);
	for (int i = 4; i < 12; i++)
		assert_int_equal(out[i], 0);
	assert_int_equal(dns_error_reply(m, 11, DNS_RCODE_FORMERR, out, sizeof(out)), 0);
	assert_int_equal(dns_error_reply(m, n, DNS_RCODE_FORMERR, out, 11), 0);
}

static void test_truncate(void **state)
{
	(void)state;
	uint8_t m[512], out[600];
	size_t n = build_query(m, "big.example", DNS_TYPE_A);
	struct dns_query q;
	assert_int_equal(dns_query_parse(m, n, &q), 0);
	struct dns_resp r;
	assert_int_equal(dns_resp_init(&r, out, sizeof(out), &q, 0), 0);
	uint8_t v4[4] = { 1, 2, 3, 4 };
	for (int i = 0; i < 35; i++)
		assert_int_equal(dns_resp_add_addr(&r, AF_INET, v4, 0), 0);
	size_t len = dns_resp_finish(&r);
	assert_true(len > 512);
	size_t t = dns_truncate(out, len);
	assert_int_equal(t, n);
	assert_true(out[2] & 0x02);
	assert_int_equal(out[7], 0);
	assert_memory_equal(out + 12, m + 12, n - 12);
	/* A reply without a readable question cannot be cut to one. */
	out[4] = 0;
	out[5] = 0;
	assert_int_equal(dns_truncate(out, len), 0);
	out[5] = 1;
	assert_int_equal(dns_truncate(out, 14), 0);
}

static void test_reply_matches(void **state)
{
	(void)state;
	uint8_t m[512], r[512];
	size_t n = build_query(m, "Example.ORG", DNS_TYPE_A);
	size_t rn = build_query(r, "example.org", DNS_TYPE_A);
	r[2] |= 0x80;
	assert_true(dns_reply_matches(m, n, r, rn));
	r[1]++; /* another ID */
	assert_false(dns_reply_matches(m, n, r, rn));
	r[1]--;
	r[2] &= 0x7f; /* not a reply */
	assert_false(dns_reply_matches(m, n, r, rn));
	r[2] |= 0x80;
	r[rn - 3] = DNS_TYPE_AAAA;
	assert_false(dns_reply_matches(m, n, r, rn));
	rn = build_query(r, "example.net", DNS_TYPE_A);
	r[2] |= 0x80;
	assert_false(dns_reply_matches(m, n, r, rn));
	/* No question (some servers' FORMERR or REFUSED): accepted on the ID. */
	r[5] = 0;
	assert_true(dns_reply_matches(m, n, r, 12));
	assert_false(dns_reply_matches(m, n, r, 11));
}

static void test_reverse(void **state)
{
	(void)state;
	int family;
	uint8_t a[16];
	char name[DNS_NAME_TEXT_MAX];
	assert_int_equal(dns_reverse_parse("3.0.88.10.in-addr.arpa", &family, a), 0);
	assert_int_equal(family, AF_INET);
	assert_memory_equal(a, "\x0a\x58\x00\x03", 4);
	dns_reverse_name(AF_INET, a, name);
	assert_string_equal(name, "3.0.88.10.in-addr.arpa");

	uint8_t v6[16];
	assert_int_equal(inet_pton(AF_INET6, "fd00:1::ab3", v6), 1);
	dns_reverse_name(AF_INET6, v6, name);
	assert_string_equal(
		name, "3.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa");
	assert_int_equal(dns_reverse_parse(name, &family, a), 0);
	assert_int_equal(family, AF_INET6);
	assert_memory_equal(a, v6, 16);

	const char *bad[] = {
		"88.10.in-addr.arpa",
		"1.3.0.88.10.in-addr.arpa",
		"256.0.88.10.in-addr.arpa",
		"03.0.88.10.in-addr.arpa",
		"3..88.10.in-addr.arpa",
		"-3.0.88.10.in-addr.arpa",
		"in-addr.arpa",
		"3.0.88.10.in-addr.arpa.example",
		"0.0.d.f.ip6.arpa",
		"g.b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa",
		"3b.a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.0.0.0.0.d.f.ip6.arpa",
		"example.com",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dns_reverse_parse(bad[i], &family, a), -EINVAL);
}

static void test_hosts(void **state)
{
	(void)state;
	const char text[] = "# the network's names\n"
			    "10.88.0.2 web Web-Alias. web.net  # a comment\n"
			    "\n"
			    "   \t\n"
			    "not-an-ip junk\n"
			    "10.88.0.3 db bad..name\n"
			    "fd00::3 db\n"
			    "10.88.0.4 web"; /* no final newline */
	struct dns_hosts h = { 0 };
	assert_int_equal(dns_hosts_parse(&h, text, strlen(text)), 0);
	assert_int_equal(h.n, 6);
	size_t pos = 0;
	const struct dns_host *e = dns_hosts_find(&h, "web", &pos);
	assert_non_null(e);
	assert_int_equal(e->family, AF_INET);
	assert_memory_equal(e->addr, "\x0a\x58\x00\x02", 4);
	e = dns_hosts_find(&h, "web", &pos);
	assert_non_null(e);
	assert_memory_equal(e->addr, "\x0a\x58\x00\x04", 4);
	assert_null(dns_hosts_find(&h, "web", &pos));
	pos = 0;
	assert_non_null(dns_hosts_find(&h, "web-alias", &pos));
	pos = 0;
	assert_null(dns_hosts_find(&h, "bad..name", &pos));
	pos = 0;
	assert_null(dns_hosts_find(&h, "junk", &pos));
	pos = 0;
	e = dns_hosts_find(&h, "db", &pos);
	assert_int_equal(e->family, AF_INET);
	e = dns_hosts_find(&h, "db", &pos);
	assert_int_equal(e->family, AF_INET6);

	uint8_t a[16] = { 10, 88, 0, 2 };
	assert_string_equal(dns_hosts_name_of(&h, AF_INET, a), "web");
	a[3] = 9;
	assert_null(dns_hosts_name_of(&h, AF_INET, a));
	assert_int_equal(inet_pton(AF_INET6, "fd00::3", a), 1);
	assert_string_equal(dns_hosts_name_of(&h, AF_INET6, a), "db");

	/* Parsing again replaces; an empty file means no names. */
	assert_int_equal(dns_hosts_parse(&h, "", 0), 0);
	assert_int_equal(h.n, 0);
	pos = 0;
	assert_null(dns_hosts_find(&h, "web", &pos));
	dns_hosts_free(&h);
}

static void test_resolv(void **state)
{
	(void)state;
	const char text[] = "# from DHCP\n"
			    "search example.com\n"
			    "nameserver 127.0.0.53\n"
			    "nameserver   fd00::53 ; a comment\n"
			    "nameserver\n"
			    "nameserver bogus\n"
			    "#nameserver 9.9.9.9\n"
			    "nameserver 1.1.1.1";
	struct sockaddr_storage ss[4];
	assert_int_equal(dns_resolv_parse(text, strlen(text), ss, 4), 3);
	const struct sockaddr_in *a = (const void *)&ss[0];
	assert_int_equal(a->sin_family, AF_INET);
	assert_int_equal(ntohs(a->sin_port), 53);
	assert_int_equal(ntohl(a->sin_addr.s_addr), 0x7f000035);
	const struct sockaddr_in6 *b = (const void *)&ss[1];
	assert_int_equal(b->sin6_family, AF_INET6);
	assert_int_equal(ntohs(b->sin6_port), 53);
	assert_int_equal(ss[2].ss_family, AF_INET);
	assert_int_equal(dns_resolv_parse(text, strlen(text), ss, 1), 1);
}

static void test_sockaddr_parse(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	const struct sockaddr_in *a = (const void *)&ss;
	const struct sockaddr_in6 *b = (const void *)&ss;

	assert_int_equal(dns_sockaddr_parse("10.88.0.1", 53, &ss, &len), 0);
	assert_int_equal(len, sizeof(*a));
	assert_int_equal(ntohs(a->sin_port), 53);
	assert_int_equal(dns_sockaddr_parse("127.0.0.1:5353", 53, &ss, &len), 0);
	assert_int_equal(ntohs(a->sin_port), 5353);
	assert_int_equal(dns_sockaddr_parse("fd00::1", 53, &ss, &len), 0);
	assert_int_equal(len, sizeof(*b));
	assert_int_equal(ntohs(b->sin6_port), 53);
	assert_int_equal(dns_sockaddr_parse("[fd00::1]:54", 53, &ss, &len), 0);
	assert_int_equal(ntohs(b->sin6_port), 54);
	assert_int_equal(b->sin6_addr.s6_addr[0], 0xfd);
	assert_int_equal(dns_sockaddr_parse("fe80::1%7", 53, &ss, &len), 0);
	assert_int_equal(b->sin6_scope_id, 7);
	assert_int_equal(dns_sockaddr_parse("fe80::1%lo", 53, &ss, &len), 0);
	assert_true(b->sin6_scope_id > 0);

	const char *bad[] = {
		"",         "1.2.3.4:",   "1.2.3.4:0",  "1.2.3.4:65536", "1.2.3.4:x",
		"[fd00::1", "[fd00::1]x", "[fd00::1]:", "host.example",  "fe80::1%nosuchif0",
		"[]:53"
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dns_sockaddr_parse(bad[i], 53, &ss, &len), -EINVAL);
}

/* Every byte of a valid query with EDNS flipped to every value: the parser
 * returns one of its answers and never reads outside (ASan runs watch). */
static void test_query_parse_mutations(void **state)
{
	(void)state;
	uint8_t m[512];
	size_t n = build_query(m, "a.bc.example", DNS_TYPE_A);
	n = add_opt(m, n, 1232, 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t saved = m[i];
		for (int v = 0; v < 256; v++) {
			m[i] = (uint8_t)v;
			struct dns_query q;
			uint8_t *copy = malloc(n);
			memcpy(copy, m, n);
			int r = dns_query_parse(copy, n, &q);
			assert_true(r == 0 || r == -1 || r == DNS_RCODE_FORMERR ||
				    r == DNS_RCODE_NOTIMP);
			if (r == 0) {
				uint8_t out[512];
				struct dns_resp resp;
				if (dns_resp_init(&resp, out, sizeof(out), &q, 0) == 0)
					dns_resp_finish(&resp);
			}
			free(copy);
		}
		m[i] = saved;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_decode_plain_and_compressed),
		cmocka_unit_test(test_name_decode_refuses_hostile),
		cmocka_unit_test(test_name_text_lowercases_and_escapes),
		cmocka_unit_test(test_name_encode),
		cmocka_unit_test(test_query_parse),
		cmocka_unit_test(test_query_parse_refuses),
		cmocka_unit_test(test_resp_answers),
		cmocka_unit_test(test_resp_truncates_at_512_without_edns),
		cmocka_unit_test(test_resp_badvers_goes_into_opt),
		cmocka_unit_test(test_error_reply),
		cmocka_unit_test(test_truncate),
		cmocka_unit_test(test_reply_matches),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_hosts),
		cmocka_unit_test(test_resolv),
		cmocka_unit_test(test_sockaddr_parse),
		cmocka_unit_test(test_query_parse_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
