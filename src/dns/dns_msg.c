/* dns_msg.c - DNS messages: names, queries, replies (see dns_msg.h).
 *
 * Every read goes through a bounds check against the message's length; the
 * bytes come from containers and are not trusted. Writes check the room
 * left against dns_resp.max before they happen.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "dns/dns_msg.h"

/* The OPT record we append: root name, type, class, TTL, RDLENGTH 0. */
#define OPT_RR_LEN 11
/* The UDP payload size we advertise in our OPT record. */
#define OUR_UDP_SIZE 1232

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint8_t ascii_lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

int dns_name_decode(const uint8_t *msg, size_t len, size_t *off, uint8_t *wire, size_t *wire_len)
{
	size_t pos = *off;
	size_t end = 0;      /* where the name ends in msg: after the first pointer */
	size_t limit = *off; /* a pointer must point before this */
	bool jumped = false;
	size_t wl = 0;

	for (;;) {
		if (pos >= len)
			return -EBADMSG;
		uint8_t c = msg[pos];
		if ((c & 0xc0) == 0xc0) {
			if (pos + 1 >= len)
				return -EBADMSG;
			size_t target = (size_t)(c & 0x3f) << 8 | msg[pos + 1];
			/* Strictly decreasing targets, never into the header: no
			 * loop can be written. */
			if (target >= limit || target < DNS_HDR_LEN)
				return -EBADMSG;
			if (!jumped) {
				end = pos + 2;
				jumped = true;
			}
			limit = target;
			pos = target;
			continue;
		}
		if (c & 0xc0) /* 0x40 and 0x80: extended and reserved label types */
			return -EBADMSG;
		if (c == 0) {
			if (wl + 1 > DNS_NAME_WIRE_MAX)
				return -EBADMSG;
			if (wire)
				wire[wl] = 0;
			wl++;
			if (!jumped)
				end = pos + 1;
			break;
		}
		if (pos + 1 + c > len || wl + 1 + c + 1 > DNS_NAME_WIRE_MAX)
			return -EBADMSG;
		if (wire)
			memcpy(wire + wl, msg + pos, 1 + (size_t)c);
		wl += 1 + (size_t)c;
		pos += 1 + (size_t)c;
	}
	*off = end;
	if (wire_len)
		*wire_len = wl;
	return 0;
}

size_t dns_name_text(const uint8_t *wire, char *out)
{
	size_t o = 0;
	size_t i = 0;
	while (wire[i] != 0) {
		uint8_t n = wire[i++];
		if (o > 0)
			out[o++] = '.';
		for (uint8_t k = 0; k < n; k++, i++) {
			uint8_t c = ascii_lower(wire[i]);
			if (c > ' ' && c < 0x7f && c != '.' && c != '\\') {
				out[o++] = (char)c;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			}
		}
	}
	out[o] = '\0';
	return o;
}

int dns_name_encode(const char *text, uint8_t *out)
{
	size_t tl = strlen(text);
	if (tl > 0 && text[tl - 1] == '.')
		tl--;
	size_t o = 0;
	size_t i = 0;
	while (i < tl) {
		const char *dot = memchr(text + i, '.', tl - i);
		size_t n = dot ? (size_t)(dot - (text + i)) : tl - i;
		if (n == 0 || n > DNS_LABEL_MAX || o + 1 + n + 1 > DNS_NAME_WIRE_MAX)
			return -EINVAL;
		out[o++] = (uint8_t)n;
		memcpy(out + o, text + i, n);
		o += n;
		i += n + 1;
	}
	out[o++] = 0;
	return (int)o;
}

/* Skip a resource record at *off; its type, class and TTL into the out
 * parameters. Whether its owner is the root into *root. */
static int rr_skip(const uint8_t *msg, size_t len, size_t *off, uint16_t *type, uint16_t *class,
		   uint32_t *ttl, bool *root)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl;
	if (dns_name_decode(msg, len, off, wire, &wl) < 0)
		return -EBADMSG;
	if (len - *off < 10)
		return -EBADMSG;
	const uint8_t *p = msg + *off;
	*type = get16(p);
	*class = get16(p + 2);
	*ttl = (uint32_t)get16(p + 4) << 16 | get16(p + 6);
	size_t rdlen = get16(p + 8);
	*root = wl == 1;
	if (len - *off - 10 < rdlen)
		return -EBADMSG;
	*off += 10 + rdlen;
	return 0;
}

int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q)
{
	if (len < DNS_HDR_LEN)
		return -1;
	memset(q, 0, sizeof(*q));
	q->id = get16(msg);
	q->flags = get16(msg + 2);
	if (q->flags & DNS_F_QR)
		return -1;
	if (DNS_F_OPCODE(q->flags) != 0)
		return DNS_RCODE_NOTIMP;
	if (get16(msg + 4) != 1)
		return DNS_RCODE_FORMERR;

	size_t off = DNS_HDR_LEN;
	if (dns_name_decode(msg, len, &off, q->qname, &q->qname_len) < 0)
		return DNS_RCODE_FORMERR;
	if (len - off < 4)
		return DNS_RCODE_FORMERR;
	q->qtype = get16(msg + off);
	q->qclass = get16(msg + off + 2);
	off += 4;
	dns_name_text(q->qname, q->name);

	/* Answers and authority have no business in a query, but are skipped
	 * rather than refused; the additional section may hold one OPT. */
	unsigned rest = (unsigned)get16(msg + 6) + get16(msg + 8);
	unsigned ar = get16(msg + 10);
	for (unsigned i = 0; i < rest + ar; i++) {
		uint16_t type, class;
		uint32_t ttl;
		bool root;
		if (rr_skip(msg, len, &off, &type, &class, &ttl, &root) < 0)
			return DNS_RCODE_FORMERR;
		if (i < rest || type != DNS_TYPE_OPT)
			continue;
		if (q->edns || !root) /* RFC 6891 6.1.1: one OPT, owner root */
			return DNS_RCODE_FORMERR;
		q->edns = true;
		q->edns_udp_size = class;
		q->edns_version = (uint8_t)(ttl >> 16);
	}
	return 0;
}

bool dns_reply_matches(const uint8_t *query, size_t qlen, const uint8_t *reply, size_t rlen)
{
	if (qlen < DNS_HDR_LEN || rlen < DNS_HDR_LEN)
		return false;
	if (get16(query) != get16(reply) || !(get16(reply + 2) & DNS_F_QR))
		return false;
	uint16_t rqd = get16(reply + 4);
	if (rqd == 0)
		return true;
	if (rqd != 1 || get16(query + 4) != 1)
		return false;
	uint8_t qw[DNS_NAME_WIRE_MAX], rw[DNS_NAME_WIRE_MAX];
	size_t qwl, rwl;
	size_t qo = DNS_HDR_LEN, ro = DNS_HDR_LEN;
	if (dns_name_decode(query, qlen, &qo, qw, &qwl) < 0 ||
	    dns_name_decode(reply, rlen, &ro, rw, &rwl) < 0)
		return false;
	if (qlen - qo < 4 || rlen - ro < 4 || qwl != rwl)
		return false;
	for (size_t i = 0; i < qwl; i++)
		if (ascii_lower(qw[i]) != ascii_lower(rw[i]))
			return false;
	return memcmp(query + qo, reply + ro, 4) == 0;
}

int dns_resp_init(struct dns_resp *r, uint8_t *buf, size_t max, const struct dns_query *q,
		  unsigned rcode)
{
	*r = (struct dns_resp){ .buf = buf, .max = max, .rcode = rcode, .edns = q->edns };
	r->reserve = q->edns ? OPT_RR_LEN : 0;
	if (max < DNS_HDR_LEN + q->qname_len + 4 + r->reserve)
		return -ENOSPC;
	put16(buf, q->id);
	uint16_t flags = DNS_F_QR | (q->flags & 0x7800) | DNS_F_AA | (q->flags & DNS_F_RD) |
			 DNS_F_RA | (rcode & 0xf);
	put16(buf + 2, flags);
	put16(buf + 4, 1);
	put16(buf + 6, 0);
	put16(buf + 8, 0);
	put16(buf + 10, 0);
	memcpy(buf + DNS_HDR_LEN, q->qname, q->qname_len);
	r->len = DNS_HDR_LEN + q->qname_len;
	put16(buf + r->len, q->qtype);
	put16(buf + r->len + 2, q->qclass);
	r->len += 4;
	return 0;
}

/* Room for n more bytes, or TC set and -ENOSPC. */
static int resp_room(struct dns_resp *r, size_t n)
{
	if (r->len + n + r->reserve <= r->max)
		return 0;
	put16(r->buf + 2, get16(r->buf + 2) | DNS_F_TC);
	return -ENOSPC;
}

/* Owner (pointer to the question's name at offset 12), type, class IN, TTL, RDLENGTH. */
static void rr_head(struct dns_resp *r, uint16_t type, uint32_t ttl, size_t rdlen)
{
	uint8_t *p = r->buf + r->len;
	put16(p, 0xc000 | DNS_HDR_LEN);
	put16(p + 2, type);
	put16(p + 4, DNS_CLASS_IN);
	put32(p + 6, ttl);
	put16(p + 10, (uint16_t)rdlen);
	r->len += 12;
}

int dns_resp_add_addr(struct dns_resp *r, int family, const void *addr, uint32_t ttl)
{
	size_t alen = family == AF_INET ? 4 : 16;
	if (resp_room(r, 12 + alen) < 0)
		return -ENOSPC;
	rr_head(r, family == AF_INET ? DNS_TYPE_A : DNS_TYPE_AAAA, ttl, alen);
	memcpy(r->buf + r->len, addr, alen);
	r->len += alen;
	r->ancount++;
	return 0;
}

int dns_resp_add_ptr(struct dns_resp *r, const char *target, uint32_t ttl)
{
	uint8_t wire[DNS_NAME_WIRE_MAX];
	int n = dns_name_encode(target, wire);
	if (n < 0)
		return n;
	if (resp_room(r, 12 + (size_t)n) < 0)
		return -ENOSPC;
	rr_head(r, DNS_TYPE_PTR, ttl, (size_t)n);
	memcpy(r->buf + r->len, wire, (size_t)n);
	r->len += (size_t)n;
	r->ancount++;
	return 0;
}

size_t dns_resp_finish(struct dns_resp *r)
{
	put16(r->buf + 6, r->ancount);
	if (r->edns) {
		uint8_t *p = r->buf + r->len;
		p[0] = 0;
		put16(p + 1, DNS_TYPE_OPT);
		put16(p + 3, OUR_UDP_SIZE);
		put32(p + 5, (uint32_t)(r->rcode >> 4 & 0xff) << 24); /* version 0, no DO */
		put16(p + 9, 0);
		r->len += OPT_RR_LEN;
		put16(r->buf + 10, 1);
	}
	return r->len;
}

size_t dns_error_reply(const uint8_t *msg, size_t len, unsigned rcode, uint8_t *out, size_t cap)
{
	if (len < DNS_HDR_LEN || cap < DNS_HDR_LEN)
		return 0;
	uint16_t qf = get16(msg + 2);
	memcpy(out, msg, 2);
	put16(out + 2, DNS_F_QR | (qf & 0x7800) | (qf & DNS_F_RD) | DNS_F_RA | (rcode & 0xf));
	memset(out + 4, 0, 8);
	return DNS_HDR_LEN;
}

size_t dns_truncate(uint8_t *reply, size_t len)
{
	if (len < DNS_HDR_LEN || get16(reply + 4) == 0)
		return 0;
	size_t off = DNS_HDR_LEN;
	uint8_t wire[DNS_NAME_WIRE_MAX];
	size_t wl;
	if (dns_name_decode(reply, len, &off, wire, &wl) < 0 || len - off < 4)
		return 0;
	uint8_t qtc[4];
	memcpy(qtc, reply + off, 4);
	/* Rewritten uncompressed: a pointer in the question could only point
	 * into the header, which dns_name_decode() refuses anyway. */
	memcpy(reply + DNS_HDR_LEN, wire, wl);
	memcpy(reply + DNS_HDR_LEN + wl, qtc, 4);
	put16(reply + 2, get16(reply + 2) | DNS_F_TC);
	put16(reply + 4, 1);
	memset(reply + 6, 0, 6);
	return DNS_HDR_LEN + wl + 4;
}

size_t dns_udp_max(const struct dns_query *q)
{
	if (!q->edns || q->edns_udp_size < DNS_UDP_PLAIN_MAX)
		return DNS_UDP_PLAIN_MAX;
	return q->edns_udp_size > DNS_UDP_EDNS_MAX ? DNS_UDP_EDNS_MAX : q->edns_udp_size;
}

static bool ends_with(const char *s, size_t n, const char *suffix, size_t *head)
{
	size_t sl = strlen(suffix);
	if (n < sl || memcmp(s + n - sl, suffix, sl) != 0)
		return false;
	*head = n - sl;
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int dns_reverse_parse(const char *name, int *family, uint8_t addr[16])
{
	size_t n = strlen(name);
	size_t head;
	if (ends_with(name, n, ".in-addr.arpa", &head)) {
		/* d.c.b.a: four decimal labels 0-255, no leading zeros. */
		const char *p = name;
		const char *end = name + head;
		for (int i = 3; i >= 0; i--) {
			unsigned v = 0;
			const char *start = p;
			while (p < end && *p >= '0' && *p <= '9' && p - start < 3)
				v = v * 10 + (unsigned)(*p++ - '0');
			if (p == start || v > 255 || (p - start > 1 && *start == '0'))
				return -EINVAL;
			addr[i] = (uint8_t)v;
			if (i > 0) {
				if (p >= end || *p != '.')
					return -EINVAL;
				p++;
			}
		}
		if (p != end)
			return -EINVAL;
		*family = AF_INET;
		return 0;
	}
	if (ends_with(name, n, ".ip6.arpa", &head)) {
		/* 32 nibbles, lowest first: "x." each. */
		if (head != 63)
			return -EINVAL;
		memset(addr, 0, 16);
		for (int i = 0; i < 32; i++) {
			int v = hexval(name[2 * i]);
			if (v < 0 || (i < 31 && name[2 * i + 1] != '.'))
				return -EINVAL;
			int nib = 31 - i;
			addr[nib / 2] |= (uint8_t)(nib % 2 ? v : v << 4);
		}
		*family = AF_INET6;
		return 0;
	}
	return -EINVAL;
}

void dns_reverse_name(int family, const void *addr, char *out)
{
	const uint8_t *a = addr;
	if (family == AF_INET) {
		snprintf(out, DNS_NAME_TEXT_MAX, "%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
			 a[0]);
		return;
	}
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[a[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[a[i] >> 4];
		out[o++] = '.';
	}
	strcpy(out + o, "ip6.arpa");
}
