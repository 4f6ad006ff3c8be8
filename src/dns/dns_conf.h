/* dns_conf.h - what berth-dns reads besides packets: the engine's names file,
 * resolv.conf's nameservers, and ADDR[:PORT] arguments. Pure functions over
 * text; the caller reads the files.
 *
 *   dns_hosts_parse()      names file text -> table of (address, name)
 *   dns_hosts_free()
 *   dns_hosts_find()       the entries for a name, one at a time
 *   dns_hosts_name_of()    the first name of an address (for PTR)
 *   dns_resolv_parse()     the nameserver lines of resolv.conf text
 *   dns_sockaddr_parse()   "1.2.3.4", "1.2.3.4:53", "fd00::1", "[fd00::1]:53", "fe80::1%eth0"
 */
#ifndef BERTH_DNS_CONF_H
#define BERTH_DNS_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct dns_host {
	int family; /* AF_INET or AF_INET6 */
	uint8_t addr[16];
	const char *name; /* lowercase, no trailing dot; points into dns_hosts.text */
};

struct dns_hosts {
	struct dns_host *v;
	size_t n;
	char *text;
};

/* Lines "IP NAME [NAME...]"; '#' starts a comment; blank lines. A line whose
 * IP does not parse, or a name that is not a valid DNS name, is skipped: the
 * rest still answers. Replaces what h held. 0, or -ENOMEM (h is then empty). */
int dns_hosts_parse(struct dns_hosts *h, const char *text, size_t len);
void dns_hosts_free(struct dns_hosts *h);
/* The next entry for name (lowercase, no trailing dot) at or after *pos, and
 * *pos moved past it; NULL when there is none. Start with *pos = 0. */
const struct dns_host *dns_hosts_find(const struct dns_hosts *h, const char *name, size_t *pos);
/* The first name listed for the address, or NULL. */
const char *dns_hosts_name_of(const struct dns_hosts *h, int family, const void *addr);

/* The addresses of the "nameserver" lines, port 53, in order, at most max.
 * Returns how many. */
size_t dns_resolv_parse(const char *text, size_t len, struct sockaddr_storage *out, size_t max);
/* ADDR[:PORT] (IPv6 with a port in brackets; a %scope after an IPv6 address,
 * by interface name or number). 0, or -EINVAL. */
int dns_sockaddr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *ss,
		       socklen_t *len);

#endif
