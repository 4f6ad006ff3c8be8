/* dns_conf.c - the names file, resolv.conf and address arguments (see dns_conf.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dns/dns_conf.h"
#include "dns/dns_msg.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* Next whitespace-separated word of line [*p, end), NUL-terminated in place;
 * NULL at the end of the line. */
static char *next_word(char **p, char *end)
{
	char *s = *p;
	while (s < end && is_space(*s))
		s++;
	if (s >= end)
		return NULL;
	char *w = s;
	while (s < end && !is_space(*s))
		s++;
	*s = '\0';
	*p = s < end ? s + 1 : end;
	return w;
}

/* Cut the comment off and return the line's end; *next is the next line. */
static char *line_end(char *s, char *end, char **next)
{
	char *nl = memchr(s, '\n', (size_t)(end - s));
	char *e = nl ? nl : end;
	*next = nl ? nl + 1 : end;
	char *hash = memchr(s, '#', (size_t)(e - s));
	return hash ? hash : e;
}

static bool addr_parse(const char *s, int *family, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return true;
	}
	return false;
}

/* Lowercase, trailing dot dropped, and a valid DNS name (no escapes). */
static bool name_normalize(char *w)
{
	size_t n = strlen(w);
	if (n > 1 && w[n - 1] == '.')
		w[--n] = '\0';
	for (char *c = w; *c; c++) {
		if (*c == '\\' || (unsigned char)*c < ' ' || *c == 0x7f)
			return false;
		if (*c >= 'A' && *c <= 'Z')
			*c = (char)(*c + 32);
	}
	uint8_t wire[DNS_NAME_WIRE_MAX];
	return n > 0 && strcmp(w, ".") != 0 && dns_name_encode(w, wire) > 0;
}

void dns_hosts_free(struct dns_hosts *h)
{
	free(h->v);
	free(h->text);
	*h = (struct dns_hosts){ 0 };
}

int dns_hosts_parse(struct dns_hosts *h, const char *text, size_t len)
{
	dns_hosts_free(h);
	char *t = malloc(len + 1);
	if (!t)
		return -ENOMEM;
	memcpy(t, text, len);
	t[len] = '\0';
	/* A name takes at least two bytes of text ("a "), so this bounds the
	 * entries without a second pass. */
	size_t cap = len / 2 + 1;
	struct dns_host *v = calloc(cap, sizeof(*v));
	if (!v) {
		free(t);
		return -ENOMEM;
	}
	size_t n = 0;
	char *end = t + len;
	for (char *s = t, *next; s < end; s = next) {
		char *le = line_end(s, end, &next);
		char *p = s;
		char *ip = next_word(&p, le);
		int family;
		uint8_t addr[16];
		if (!ip || !addr_parse(ip, &family, addr))
			continue;
		for (char *w; (w = next_word(&p, le));) {
			if (!name_normalize(w) || n >= cap)
				continue;
			v[n].family = family;
			memcpy(v[n].addr, addr, 16);
			v[n].name = w;
			n++;
		}
	}
	h->v = v;
	h->n = n;
	h->text = t;
	return 0;
}

const struct dns_host *dns_hosts_find(const struct dns_hosts *h, const char *name, size_t *pos)
{
	for (size_t i = *pos; i < h->n; i++)
		if (strcmp(h->v[i].name, name) == 0) {
			*pos = i + 1;
			return &h->v[i];
		}
	*pos = h->n;
	return NULL;
}

const char *dns_hosts_name_of(const struct dns_hosts *h, int family, const void *addr)
{
	size_t alen = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < h->n; i++)
		if (h->v[i].family == family && memcmp(h->v[i].addr, addr, alen) == 0)
			return h->v[i].name;
	return NULL;
}

size_t dns_resolv_parse(const char *text, size_t len, struct sockaddr_storage *out, size_t max)
{
	char *t = malloc(len + 1);
	if (!t)
		return 0;
	memcpy(t, text, len);
	t[len] = '\0';
	size_t n = 0;
	char *end = t + len;
	for (char *s = t, *next; s < end && n < max; s = next) {
		char *le = line_end(s, end, &next);
		/* resolv.conf also takes ';' for comments. */
		char *semi = memchr(s, ';', (size_t)(le - s));
		if (semi)
			le = semi;
		char *p = s;
		char *key = next_word(&p, le);
		if (!key || strcmp(key, "nameserver") != 0)
			continue;
		char *val = next_word(&p, le);
		socklen_t sl;
		/* A bare address: "::1:53" is an IPv6 address, not a port. */
		if (val && val[0] != '[' && dns_sockaddr_parse(val, 53, &out[n], &sl) == 0)
			n++;
	}
	free(t);
	return n;
}

static int parse_port(const char *s, uint16_t *port)
{
	if (!*s)
		return -EINVAL;
	unsigned long v = 0;
	for (const char *c = s; *c; c++) {
		if (*c < '0' || *c > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*c - '0');
		if (v > 65535)
			return -EINVAL;
	}
	if (v == 0)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int dns_sockaddr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
		       socklen_t *len)
{
	char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
	uint16_t port = default_port;
	const char *colon = strchr(s, ':');
	size_t hl;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb)
			return -EINVAL;
		if (rb[1] == ':') {
			if (parse_port(rb + 2, &port) < 0)
				return -EINVAL;
		} else if (rb[1] != '\0') {
			return -EINVAL;
		}
		s++;
		hl = (size_t)(rb - s);
	} else if (colon && !strchr(colon + 1, ':')) {
		/* One colon: IPv4 and a port. */
		if (parse_port(colon + 1, &port) < 0)
			return -EINVAL;
		hl = (size_t)(colon - s);
	} else {
		hl = strlen(s);
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';

	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		*len = sizeof(*in4);
		return 0;
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	char *pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		const char *scope = pct + 1;
		char *e;
		errno = 0;
		unsigned long idx = strtoul(scope, &e, 10);
		if (*scope && !*e && errno == 0 && idx <= UINT32_MAX)
			in6->sin6_scope_id = (uint32_t)idx;
		else if (!(in6->sin6_scope_id = if_nametoindex(scope)))
			return -EINVAL;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1)
		return -EINVAL;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons(port);
	*len = sizeof(*in6);
	return 0;
}
