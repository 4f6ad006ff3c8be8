/* dns_msg.h - DNS messages (RFC 1035, EDNS0 of RFC 6891) as berth-dns reads
 * and writes them: pure functions over byte buffers, no I/O, no allocation.
 * Everything here reads only inside [msg, msg + len) whatever the bytes say.
 *
 * Reading
 *   dns_name_decode()     a possibly compressed name -> its uncompressed wire form
 *   dns_name_text()       wire form -> lowercase dotted text (the lookup key)
 *   dns_name_encode()     dotted text -> wire form (for PTR targets)
 *   dns_query_parse()     a query: header, the one question, EDNS0 OPT
 *   dns_reply_matches()   is this upstream reply the answer to that query?
 *
 * Writing
 *   dns_resp_init()       header and the question echoed, as the client asked it
 *   dns_resp_add_addr()   an A or AAAA answer (owner: pointer to the question)
 *   dns_resp_add_ptr()    a PTR answer
 *   dns_resp_finish()     counts, the OPT record if the query had one; the length
 *   dns_error_reply()     header-only reply (FORMERR, NOTIMP) to an unparsable query
 *   dns_truncate()        cut a reply to its header and question, TC set
 *   dns_udp_max()         how large a UDP reply this client takes
 *
 * Reverse names
 *   dns_reverse_parse()   "4.3.2.1.in-addr.arpa" / 32-nibble ip6.arpa -> address
 *   dns_reverse_name()    and back
 */
#ifndef BERTH_DNS_MSG_H
#define BERTH_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
/* A name's wire form, length bytes and the root's 0 included (RFC 1035 2.3.4). */
#define DNS_NAME_WIRE_MAX 255
#define DNS_LABEL_MAX     63
/* Text form: each byte at most "\DDD", plus dots and the NUL. */
#define DNS_NAME_TEXT_MAX 1024
/* A reply over UDP to a client without EDNS0; and the most we ever send over UDP. */
#define DNS_UDP_PLAIN_MAX 512
#define DNS_UDP_EDNS_MAX  4096
#define DNS_TCP_MAX       65535

enum {
	DNS_TYPE_A = 1,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
	DNS_TYPE_ANY = 255,
};
enum { DNS_CLASS_IN = 1, DNS_CLASS_ANY = 255 };
enum {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
	DNS_RCODE_BADVERS = 16, /* extended: needs the OPT record */
};
/* Header flag bits (second 16-bit word). */
#define DNS_F_QR        0x8000
#define DNS_F_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_F_AA        0x0400
#define DNS_F_TC        0x0200
#define DNS_F_RD        0x0100
#define DNS_F_RA        0x0080
#define DNS_F_RCODE(f)  ((f)&0xf)

struct dns_query {
	uint16_t id;
	uint16_t flags;
	uint16_t qtype;
	uint16_t qclass;
	/* The lookup key: lowercase, dotted, no trailing dot ("" is the root);
	 * bytes other than printable ASCII, '.' and '\\' inside a label as \DDD. */
	char name[DNS_NAME_TEXT_MAX];
	/* The name as the client wrote it (case kept, uncompressed), to echo. */
	uint8_t qname[DNS_NAME_WIRE_MAX];
	size_t qname_len;
	bool edns;
	uint16_t edns_udp_size; /* as sent; dns_udp_max() applies the bounds */
	uint8_t edns_version;
};

/* Decode the name at *off of msg. On success the uncompressed wire form is in
 * wire (DNS_NAME_WIRE_MAX bytes; may be NULL to skip), its length in
 * *wire_len (may be NULL), and *off is past the name where it sits in msg.
 * Compression pointers must each point before the previous one (so a loop
 * cannot be written); labels of the 0x40/0x80 kinds are refused.
 * 0, or -EBADMSG. */
int dns_name_decode(const uint8_t *msg, size_t len, size_t *off, uint8_t *wire, size_t *wire_len);
/* The text form (see struct dns_query.name) of a valid wire name into out
 * (DNS_NAME_TEXT_MAX bytes). Returns its length. */
size_t dns_name_text(const uint8_t *wire, char *out);
/* Dotted text (a trailing dot allowed, no escapes) to wire form in out
 * (DNS_NAME_WIRE_MAX bytes). Returns the length, or -EINVAL for an empty
 * label, a label over 63 bytes or a name over 255. */
int dns_name_encode(const char *text, uint8_t *out);

/* Parse a query. 0: q is filled; > 0: the rcode to answer with
 * dns_error_reply() (FORMERR: QDCOUNT != 1 or a malformed message; NOTIMP:
 * an opcode other than QUERY); -1: not to be answered (shorter than a
 * header, or a response). */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);
/* A reply from upstream answers query: the same ID, QR set, and either the
 * same question (name case-insensitively, type, class) or no question. */
bool dns_reply_matches(const uint8_t *query, size_t qlen, const uint8_t *reply, size_t rlen);

struct dns_resp {
	uint8_t *buf;
	size_t max; /* the client's limit, and not more than the buffer */
	size_t len;
	size_t reserve; /* kept free for the OPT record */
	uint16_t ancount;
	unsigned rcode;
	bool edns;
};

/* Start the reply to q in buf (max bytes: the buffer's size and what the
 * client takes, see dns_udp_max()): ID, opcode and RD of the query, QR, AA
 * and RA set, rcode (an extended one goes into the OPT record), the question
 * echoed. 0, or -ENOSPC if not even that fits (max < 12 + question + OPT). */
int dns_resp_init(struct dns_resp *r, uint8_t *buf, size_t max, const struct dns_query *q,
		  unsigned rcode);
/* Append an answer for the question's name: family AF_INET (A, 4 bytes of
 * addr) or AF_INET6 (AAAA, 16 bytes). 0, or -ENOSPC: it does not fit, TC is
 * set and the reply keeps the answers added before. */
int dns_resp_add_addr(struct dns_resp *r, int family, const void *addr, uint32_t ttl);
/* Append a PTR answer whose target is the dotted name target. 0, -ENOSPC as
 * above, or -EINVAL if target is not a valid name. */
int dns_resp_add_ptr(struct dns_resp *r, const char *target, uint32_t ttl);
/* Write the counts and, when the query had EDNS0, a minimal OPT record
 * (our UDP size, the extended rcode, no options). Returns the length. */
size_t dns_resp_finish(struct dns_resp *r);

/* A reply of a header only, question count 0, for a query dns_query_parse()
 * refused with rcode: its ID, opcode and RD. 0 (send nothing) if msg is
 * shorter than a header or cap < 12. */
size_t dns_error_reply(const uint8_t *msg, size_t len, unsigned rcode, uint8_t *out, size_t cap);
/* Cut reply (len bytes, in place) to its header and first question with TC
 * set and the other counts 0, so a client told "too large" retries over TCP.
 * Returns the new length, or 0 if reply has no readable question. */
size_t dns_truncate(uint8_t *reply, size_t len);
/* The largest UDP reply for q: 512 without EDNS0, else its advertised size
 * bounded to [512, DNS_UDP_EDNS_MAX]. */
size_t dns_udp_max(const struct dns_query *q);

/* A reverse-lookup name (text form, as in struct dns_query) of a whole
 * address: sets *family (AF_INET, AF_INET6) and addr (4 or 16 bytes). 0, or
 * -EINVAL for anything else (partial names, bad digits). */
int dns_reverse_parse(const char *name, int *family, uint8_t addr[16]);
/* The reverse-lookup name of an address into out (DNS_NAME_TEXT_MAX bytes). */
void dns_reverse_name(int family, const void *addr, char *out);

#endif
