/* berth_dns.c - berth-dns: the DNS responder of one user-defined bridge network.
 *
 * berth-dns --listen ADDR[:PORT] [--listen ...] --names FILE --lock FILE
 *           [--resolv FILE] [--upstream ADDR[:PORT]]...
 *
 * The engine starts it with the network's first running container and stops
 * it (SIGTERM to the pid in the lock file) when the network is removed. It
 * listens on the gateway address, port 53 by default, over UDP and TCP, and
 *   - answers A, AAAA and PTR for the names in the names file (container
 *     names, aliases, hostnames; re-read when the engine replaces it);
 *   - forwards every other query to the upstream resolvers (--upstream, else
 *     resolv.conf's nameservers, re-read when it changes), one after the
 *     other with 2 s each, relaying the reply; SERVFAIL when none answers.
 *
 * One process per network: the lock file is flock()ed for its lifetime; a
 * second instance finds it held and exits 0 at once.
 *
 * One thread, one epoll loop. A forwarded query is a slot of a fixed table
 * with its own connected UDP socket (a random source port and a random ID:
 * a container cannot easily forge the upstream's reply) and a deadline.
 * Sizes are bounded everywhere: the table, TCP connections, their buffers.
 *
 * A TCP client whose forwarded query comes back truncated over UDP gets the
 * answer the same upstream gives over TCP.
 *
 * Sections: arguments and files - sockets - replying - local answers -
 * forwarding - TCP connections - the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "dns/dns_conf.h"
#include "dns/dns_msg.h"

#define MAX_LISTEN          8
#define MAX_UPSTREAM        8
#define MAX_PENDING         256
#define MAX_TCP             32
#define UPSTREAM_TIMEOUT_MS 2000
#define TCP_IDLE_MS         10000
/* Queries are small; a TCP query longer than this closes the connection. */
#define TCP_QUERY_MAX 4096
/* Replies queued for a TCP client that does not read. */
#define TCP_OUT_MAX (256 * 1024)
/* The names file is the engine's; this only bounds a broken one. */
#define NAMES_FILE_MAX (16 * 1024 * 1024)
/* A container's address changes when it restarts: nothing should keep the old one. */
#define ANSWER_TTL 0

enum kind { K_SIGNAL, K_UDP, K_TCP_LISTEN, K_TCP_CONN, K_UPSTREAM };

struct listener {
	int udp, tcp;
	struct sockaddr_storage addr;
	socklen_t len;
};

/* Where a reply goes: a UDP peer of a listener, or a TCP connection (its
 * generation tells a reused slot from the connection that asked). */
struct client {
	bool tcp;
	int listener;
	struct sockaddr_storage addr;
	socklen_t len;
	int conn;
	uint32_t gen;
};

struct pending {
	int fd; /* -1: free */
	uint16_t client_id;
	size_t upstream; /* index of the one asked now */
	int64_t deadline;
	uint8_t *query; /* as forwarded, with our ID */
	size_t qlen;
	size_t max_reply;
	struct client c;
	/* Over TCP to the upstream (a TCP client got a truncated UDP reply). */
	bool tcp_up;
	bool sent;
	uint8_t *tin; /* 2 + DNS_TCP_MAX once reading */
	size_t tin_len;
};

struct tcp_conn {
	int fd; /* -1: free */
	uint32_t gen;
	int64_t deadline;
	bool eof;
	unsigned inflight;
	uint8_t in[2 + TCP_QUERY_MAX];
	size_t in_len;
	uint8_t *out;
	size_t out_len;
};

/* A file re-read when stat() says it changed. */
struct watched {
	const char *path;
	bool seen;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
};

static int epfd;
static struct listener listeners[MAX_LISTEN];
static size_t n_listeners;
static struct sockaddr_storage fixed_upstreams[MAX_UPSTREAM];
static size_t n_fixed_upstreams;
static struct sockaddr_storage upstreams[MAX_UPSTREAM];
static size_t n_upstreams;
static struct watched names_file, resolv_file = { .path = "/etc/resolv.conf" };
static struct dns_hosts hosts;
static struct pending pending[MAX_PENDING];
static struct tcp_conn conns[MAX_TCP];
static uint8_t rbuf[65536];
static uint8_t wbuf[65536];

static void die(const char *what)
{
	dprintf(2, "berth-dns: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint16_t random_id(void)
{
	uint16_t v;
	while (getrandom(&v, sizeof(v), 0) != sizeof(v))
		;
	return v;
}

static void ep_add(int fd, enum kind k, uint32_t idx, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)k << 32 | idx };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl");
}

static void ep_mod(int fd, enum kind k, uint32_t idx, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.u64 = (uint64_t)k << 32 | idx };
	epoll_ctl(epfd, EPOLL_CTL_MOD, fd, &ev);
}

/* ---- arguments and files ---- */

/* Read path whole if it changed since w was last seen. 1 and *data (to
 * free) when it did, *data NULL if the file is gone; 0 when unchanged. */
static int watched_read(struct watched *w, char **data, size_t *len)
{
	struct stat st;
	*data = NULL;
	*len = 0;
	if (stat(w->path, &st) < 0) {
		bool was = w->seen;
		w->seen = false;
		return was ? 1 : 0;
	}
	if (w->seen && st.st_dev == w->dev && st.st_ino == w->ino && st.st_size == w->size &&
	    st.st_mtim.tv_sec == w->mtime.tv_sec && st.st_mtim.tv_nsec == w->mtime.tv_nsec)
		return 0;
	int fd = open(w->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* try again at the next query */
	if (fstat(fd, &st) < 0 || st.st_size > NAMES_FILE_MAX) {
		close(fd);
		return 0;
	}
	size_t cap = (size_t)st.st_size + 1;
	char *buf = malloc(cap);
	size_t n = 0;
	while (buf) {
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
		if (n == cap) /* grew while we read: take what fits */
			break;
	}
	close(fd);
	if (!buf)
		return 0;
	w->seen = true;
	w->dev = st.st_dev;
	w->ino = st.st_ino;
	w->size = st.st_size;
	w->mtime = st.st_mtim;
	*data = buf;
	*len = n;
	return 1;
}

static void names_refresh(void)
{
	char *data;
	size_t len;
	if (watched_read(&names_file, &data, &len) == 0)
		return;
	if (dns_hosts_parse(&hosts, data ? data : "", len) < 0)
		dns_hosts_free(&hosts);
	free(data);
}

static bool same_sockaddr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && !memcmp(&x->sin6_addr, &y->sin6_addr, 16);
}

/* Our own listening addresses are no upstream: a query would go round. */
static size_t drop_self(struct sockaddr_storage *v, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool self = false;
		for (size_t l = 0; l < n_listeners; l++)
			self |= same_sockaddr(&v[i], &listeners[l].addr);
		if (!self)
			v[k++] = v[i];
	}
	return k;
}

static void upstreams_refresh(void)
{
	if (n_fixed_upstreams > 0) {
		memcpy(upstreams, fixed_upstreams, sizeof(upstreams));
		n_upstreams = n_fixed_upstreams;
		return;
	}
	char *data;
	size_t len;
	if (watched_read(&resolv_file, &data, &len) == 0)
		return;
	n_upstreams = data ? dns_resolv_parse(data, len, upstreams, MAX_UPSTREAM) : 0;
	n_upstreams = drop_self(upstreams, n_upstreams);
	free(data);
}

static void usage(void)
{
	dprintf(2, "usage: berth-dns --listen ADDR[:PORT] [--listen ...] --names FILE --lock FILE\n"
		   "                 [--resolv FILE] [--upstream ADDR[:PORT]]...\n");
	exit(2);
}

/* ---- sockets ---- */

static int bind_socket(const struct listener *l, int type)
{
	int fd = socket(l->addr.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* The gateway address may not be up yet when the engine starts us. */
	if (l->addr.ss_family == AF_INET) {
		setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	} else {
		setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof(one));
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	}
	if (bind(fd, (const struct sockaddr *)&l->addr, l->len) < 0)
		die("bind");
	if (type == SOCK_STREAM && listen(fd, 64) < 0)
		die("listen");
	return fd;
}

/* Take the lock or exit 0: another berth-dns serves this network. */
static void take_lock(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		die(path);
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			exit(0);
		if (errno != EINTR)
			die("flock");
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
		die("writing the pid");
	/* fd stays open, and so the lock held, until we exit. */
}

/* ---- replying ---- */

static void tcp_close(int i);
static void tcp_flush(int i);

static void tcp_queue(int i, const uint8_t *p, size_t n)
{
	struct tcp_conn *c = &conns[i];
	if (c->out_len + 2 + n > TCP_OUT_MAX) {
		tcp_close(i);
		return;
	}
	uint8_t *o = realloc(c->out, c->out_len + 2 + n);
	if (!o) {
		tcp_close(i);
		return;
	}
	c->out = o;
	o[c->out_len] = (uint8_t)(n >> 8);
	o[c->out_len + 1] = (uint8_t)n;
	memcpy(o + c->out_len + 2, p, n);
	c->out_len += 2 + n;
	tcp_flush(i);
}

static void reply(const struct client *c, const uint8_t *p, size_t n)
{
	if (n == 0)
		return;
	if (c->tcp) {
		if (conns[c->conn].fd >= 0 && conns[c->conn].gen == c->gen)
			tcp_queue(c->conn, p, n);
		return;
	}
	/* A full socket buffer drops the reply: the client asks again. */
	sendto(listeners[c->listener].udp, p, n, MSG_DONTWAIT, (const struct sockaddr *)&c->addr,
	       c->len);
}

/* A reply of rcode, with the question, to a query that parsed. */
static void reply_rcode(const struct client *c, const struct dns_query *q, size_t max,
			unsigned rcode)
{
	struct dns_resp r;
	if (dns_resp_init(&r, wbuf, max, q, rcode) == 0)
		reply(c, wbuf, dns_resp_finish(&r));
}

/* ---- local answers ---- */

static bool class_in(const struct dns_query *q)
{
	return q->qclass == DNS_CLASS_IN || q->qclass == DNS_CLASS_ANY;
}

/* Answer from the names file if the name is one of ours; false otherwise. */
static bool answer_local(const struct client *c, const struct dns_query *q, size_t max)
{
	if (!class_in(q))
		return false;
	names_refresh();
	struct dns_resp r;
	size_t pos = 0;
	const struct dns_host *h = dns_hosts_find(&hosts, q->name, &pos);
	if (h) {
		if (dns_resp_init(&r, wbuf, max, q, DNS_RCODE_NOERROR) < 0)
			return true;
		for (; h; h = dns_hosts_find(&hosts, q->name, &pos)) {
			bool want = q->qtype == DNS_TYPE_ANY ||
				    (q->qtype == DNS_TYPE_A && h->family == AF_INET) ||
				    (q->qtype == DNS_TYPE_AAAA && h->family == AF_INET6);
			if (want && dns_resp_add_addr(&r, h->family, h->addr, ANSWER_TTL) < 0)
				break;
		}
		reply(c, wbuf, dns_resp_finish(&r));
		return true;
	}
	int family;
	uint8_t addr[16];
	const char *target;
	if (dns_reverse_parse(q->name, &family, addr) < 0 ||
	    !(target = dns_hosts_name_of(&hosts, family, addr)))
		return false;
	if (dns_resp_init(&r, wbuf, max, q, DNS_RCODE_NOERROR) < 0)
		return true;
	if (q->qtype == DNS_TYPE_PTR || q->qtype == DNS_TYPE_ANY)
		dns_resp_add_ptr(&r, target, ANSWER_TTL);
	reply(c, wbuf, dns_resp_finish(&r));
	return true;
}

/* ---- forwarding ---- */

static void pending_free(struct pending *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->query);
	p->query = NULL;
	free(p->tin);
	p->tin = NULL;
	p->tin_len = 0;
	p->tcp_up = false;
	if (p->c.tcp && conns[p->c.conn].gen == p->c.gen && conns[p->c.conn].inflight > 0) {
		conns[p->c.conn].inflight--;
		if (conns[p->c.conn].eof && conns[p->c.conn].inflight == 0 &&
		    conns[p->c.conn].out_len == 0)
			tcp_close(p->c.conn);
	}
}

/* SERVFAIL, with the question, to the client of p; then p is free. */
static void pending_fail(struct pending *p)
{
	struct dns_query q;
	p->query[0] = (uint8_t)(p->client_id >> 8);
	p->query[1] = (uint8_t)p->client_id;
	if (dns_query_parse(p->query, p->qlen, &q) == 0)
		reply_rcode(&p->c, &q, p->max_reply, DNS_RCODE_SERVFAIL);
	pending_free(p);
}

/* Send p's query to upstream number `from` or the first after it that takes
 * it. 0, or -1 when none is left (p still holds its query: pending_fail()). */
static int pending_send(struct pending *p, size_t from)
{
	for (size_t u = from; u < n_upstreams; u++) {
		if (p->fd >= 0) {
			close(p->fd);
			p->fd = -1;
		}
		free(p->tin);
		p->tin = NULL;
		p->tin_len = 0;
		p->tcp_up = false;
		const struct sockaddr_storage *a = &upstreams[u];
		socklen_t al = a->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						       : sizeof(struct sockaddr_in6);
		int fd = socket(a->ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (const struct sockaddr *)a, al) < 0 ||
		    send(fd, p->query, p->qlen, 0) != (ssize_t)p->qlen) {
			close(fd);
			continue;
		}
		p->fd = fd;
		p->upstream = u;
		p->deadline = now_ms() + UPSTREAM_TIMEOUT_MS;
		ep_add(fd, K_UPSTREAM, (uint32_t)(p - pending), EPOLLIN);
		return 0;
	}
	return -1;
}

static void forward(const struct client *c, const struct dns_query *q, const uint8_t *msg,
		    size_t len, size_t max)
{
	upstreams_refresh();
	struct pending *p = NULL;
	for (size_t i = 0; i < MAX_PENDING && !p; i++)
		if (pending[i].fd < 0 && !pending[i].query)
			p = &pending[i];
	if (!p || n_upstreams == 0 || !(p->query = malloc(len))) {
		reply_rcode(c, q, max, DNS_RCODE_SERVFAIL);
		return;
	}
	memcpy(p->query, msg, len);
	p->qlen = len;
	p->client_id = q->id;
	uint16_t id = random_id();
	p->query[0] = (uint8_t)(id >> 8);
	p->query[1] = (uint8_t)id;
	p->max_reply = max;
	p->c = *c;
	if (c->tcp)
		conns[c->conn].inflight++;
	if (pending_send(p, 0) < 0)
		pending_fail(p);
}

/* Ask p's current upstream again, over TCP. 0, or -1 (p is unchanged but
 * for its socket, closed). */
static int pending_send_tcp(struct pending *p)
{
	close(p->fd);
	p->fd = -1;
	if (p->upstream >= n_upstreams)
		return -1;
	const struct sockaddr_storage *a = &upstreams[p->upstream];
	socklen_t al =
		a->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)a, al) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	p->fd = fd;
	p->tcp_up = true;
	p->sent = false;
	p->deadline = now_ms() + UPSTREAM_TIMEOUT_MS;
	ep_add(fd, K_UPSTREAM, (uint32_t)(p - pending), EPOLLOUT);
	return 0;
}

/* The next upstream, or SERVFAIL when none is left. */
static void pending_next(struct pending *p)
{
	if (pending_send(p, p->upstream + 1) < 0)
		pending_fail(p);
}

/* A reply (in rbuf) came from p's upstream: relay it, or try elsewhere. */
static void upstream_reply(struct pending *p, uint8_t *msg, size_t len)
{
	unsigned rcode = msg[3] & 0xf;
	if ((rcode == DNS_RCODE_SERVFAIL || rcode == DNS_RCODE_REFUSED) &&
	    pending_send(p, p->upstream + 1) == 0)
		return;
	if ((msg[2] & 0x02) && p->c.tcp && !p->tcp_up && pending_send_tcp(p) == 0)
		return;
	msg[0] = (uint8_t)(p->client_id >> 8);
	msg[1] = (uint8_t)p->client_id;
	if (len > p->max_reply)
		len = dns_truncate(msg, len);
	reply(&p->c, msg, len);
	pending_free(p);
}

static void upstream_udp_readable(struct pending *p)
{
	for (;;) {
		ssize_t n = recv(p->fd, rbuf, sizeof(rbuf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN) {
			/* ECONNREFUSED: nothing listens there. */
			pending_next(p);
			return;
		}
		if (n < 0)
			return;
		if (!dns_reply_matches(p->query, p->qlen, rbuf, (size_t)n))
			continue; /* not ours: keep waiting for the real one */
		upstream_reply(p, rbuf, (size_t)n);
		return;
	}
}

static void upstream_tcp_event(struct pending *p, uint32_t events)
{
	if (!p->sent) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			pending_next(p);
			return;
		}
		if (!(events & EPOLLOUT))
			return;
		/* A fresh connection's buffer takes a query whole. */
		uint8_t hdr[2] = { (uint8_t)(p->qlen >> 8), (uint8_t)p->qlen };
		struct iovec iov[2] = { { hdr, 2 }, { p->query, p->qlen } };
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		if (sendmsg(p->fd, &mh, MSG_NOSIGNAL) != (ssize_t)(2 + p->qlen)) {
			pending_next(p);
			return;
		}
		p->sent = true;
		ep_mod(p->fd, K_UPSTREAM, (uint32_t)(p - pending), EPOLLIN);
		return;
	}
	if (!p->tin && !(p->tin = malloc(2 + DNS_TCP_MAX))) {
		pending_next(p);
		return;
	}
	for (;;) {
		ssize_t n = recv(p->fd, p->tin + p->tin_len, 2 + DNS_TCP_MAX - p->tin_len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			pending_next(p); /* closed before a whole reply */
			return;
		}
		p->tin_len += (size_t)n;
		if (p->tin_len < 2)
			continue;
		size_t rl = (size_t)p->tin[0] << 8 | p->tin[1];
		if (p->tin_len < 2 + rl)
			continue;
		if (!dns_reply_matches(p->query, p->qlen, p->tin + 2, rl)) {
			pending_next(p);
			return;
		}
		upstream_reply(p, p->tin + 2, rl);
		return;
	}
}

/* ---- queries, from UDP or TCP ---- */

static void handle_query(const struct client *c, const uint8_t *msg, size_t len)
{
	struct dns_query q;
	int r = dns_query_parse(msg, len, &q);
	if (r < 0)
		return;
	if (r > 0) {
		reply(c, wbuf, dns_error_reply(msg, len, (unsigned)r, wbuf, sizeof(wbuf)));
		return;
	}
	size_t max = c->tcp ? DNS_TCP_MAX : dns_udp_max(&q);
	if (q.edns && q.edns_version != 0) {
		reply_rcode(c, &q, max, DNS_RCODE_BADVERS);
		return;
	}
	if (!answer_local(c, &q, max))
		forward(c, &q, msg, len, max);
}

static void udp_readable(int li)
{
	/* Bounded, so that one busy listener cannot starve the others. */
	for (int k = 0; k < 64; k++) {
		struct client c = { .listener = li, .len = sizeof(c.addr) };
		ssize_t n = recvfrom(listeners[li].udp, rbuf, sizeof(rbuf), 0,
				     (struct sockaddr *)&c.addr, &c.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return;
		handle_query(&c, rbuf, (size_t)n);
	}
}

/* ---- TCP connections ---- */

static void tcp_close(int i)
{
	struct tcp_conn *c = &conns[i];
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	c->gen++;
	free(c->out);
	c->out = NULL;
	c->out_len = 0;
	c->in_len = 0;
	c->inflight = 0;
	c->eof = false;
}

static void tcp_events(int i)
{
	struct tcp_conn *c = &conns[i];
	struct epoll_event ev = {
		.events = (c->eof ? 0 : EPOLLIN) | (c->out_len ? EPOLLOUT : 0),
		.data.u64 = (uint64_t)K_TCP_CONN << 32 | (uint32_t)i,
	};
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void tcp_flush(int i)
{
	struct tcp_conn *c = &conns[i];
	while (c->out_len > 0) {
		ssize_t n = send(c->fd, c->out, c->out_len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			tcp_close(i);
			return;
		}
		memmove(c->out, c->out + n, c->out_len - (size_t)n);
		c->out_len -= (size_t)n;
		c->deadline = now_ms() + TCP_IDLE_MS;
	}
	if (c->eof && c->inflight == 0 && c->out_len == 0) {
		tcp_close(i);
		return;
	}
	tcp_events(i);
}

static void tcp_accept(int li)
{
	int fd = accept4(listeners[li].tcp, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (int i = 0; i < MAX_TCP; i++)
		if (conns[i].fd < 0) {
			conns[i].fd = fd;
			conns[i].deadline = now_ms() + TCP_IDLE_MS;
			ep_add(fd, K_TCP_CONN, (uint32_t)i, EPOLLIN);
			return;
		}
	close(fd); /* full: the client will retry or use UDP */
}

static void tcp_readable(int i)
{
	struct tcp_conn *c = &conns[i];
	ssize_t n;
	do
		n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == EAGAIN)
		return;
	if (n <= 0) {
		/* Called again after EOF: a hang-up, which epoll cannot mask. */
		bool again = c->eof;
		c->eof = true;
		if (n < 0 || again || (c->inflight == 0 && c->out_len == 0))
			tcp_close(i);
		else
			tcp_events(i);
		return;
	}
	c->in_len += (size_t)n;
	c->deadline = now_ms() + TCP_IDLE_MS;
	uint32_t gen = c->gen;
	while (c->fd >= 0 && c->gen == gen && c->in_len >= 2) {
		size_t ql = (size_t)c->in[0] << 8 | c->in[1];
		if (ql == 0 || ql > TCP_QUERY_MAX) {
			tcp_close(i);
			return;
		}
		if (c->in_len < 2 + ql)
			break;
		uint8_t q[TCP_QUERY_MAX];
		memcpy(q, c->in + 2, ql);
		memmove(c->in, c->in + 2 + ql, c->in_len - 2 - ql);
		c->in_len -= 2 + ql;
		struct client cl = { .tcp = true, .conn = i, .gen = gen };
		handle_query(&cl, q, ql);
	}
}

/* ---- the loop ---- */

static int next_timeout(int64_t now)
{
	int64_t t = -1;
	for (int i = 0; i < MAX_PENDING; i++)
		if (pending[i].fd >= 0 && (t < 0 || pending[i].deadline < t))
			t = pending[i].deadline;
	for (int i = 0; i < MAX_TCP; i++)
		if (conns[i].fd >= 0 && (t < 0 || conns[i].deadline < t))
			t = conns[i].deadline;
	if (t < 0)
		return -1;
	return t <= now ? 0 : (int)(t - now);
}

static void expire(int64_t now)
{
	for (int i = 0; i < MAX_PENDING; i++) {
		struct pending *p = &pending[i];
		if (p->fd >= 0 && p->deadline <= now && pending_send(p, p->upstream + 1) < 0)
			pending_fail(p);
	}
	for (int i = 0; i < MAX_TCP; i++)
		if (conns[i].fd >= 0 && conns[i].deadline <= now)
			tcp_close(i);
}

int main(int argc, char **argv)
{
	const char *lock = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--listen")) {
			if (n_listeners == MAX_LISTEN)
				usage();
			struct listener *l = &listeners[n_listeners++];
			if (dns_sockaddr_parse(v, 53, &l->addr, &l->len) < 0) {
				dprintf(2, "berth-dns: bad --listen address: %s\n", v);
				exit(2);
			}
		} else if (!strcmp(a, "--upstream")) {
			socklen_t sl;
			if (n_fixed_upstreams == MAX_UPSTREAM ||
			    dns_sockaddr_parse(v, 53, &fixed_upstreams[n_fixed_upstreams], &sl) <
				    0) {
				dprintf(2, "berth-dns: bad --upstream address: %s\n", v);
				exit(2);
			}
			n_fixed_upstreams++;
		} else if (!strcmp(a, "--names")) {
			names_file.path = v;
		} else if (!strcmp(a, "--lock")) {
			lock = v;
		} else if (!strcmp(a, "--resolv")) {
			resolv_file.path = v;
		} else {
			usage();
		}
	}
	if (n_listeners == 0 || !names_file.path || !lock)
		usage();

	take_lock(lock);

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd");
	epfd = epoll_create1(EPOLL_CLOEXEC);
	if (epfd < 0)
		die("epoll_create1");
	ep_add(sfd, K_SIGNAL, 0, EPOLLIN);

	for (size_t i = 0; i < MAX_PENDING; i++)
		pending[i].fd = -1;
	for (size_t i = 0; i < MAX_TCP; i++)
		conns[i].fd = -1;
	for (size_t i = 0; i < n_listeners; i++) {
		listeners[i].udp = bind_socket(&listeners[i], SOCK_DGRAM);
		listeners[i].tcp = bind_socket(&listeners[i], SOCK_STREAM);
		ep_add(listeners[i].udp, K_UDP, (uint32_t)i, EPOLLIN);
		ep_add(listeners[i].tcp, K_TCP_LISTEN, (uint32_t)i, EPOLLIN);
	}
	n_fixed_upstreams = drop_self(fixed_upstreams, n_fixed_upstreams);
	names_refresh();

	for (;;) {
		struct epoll_event evs[32];
		int n = epoll_wait(epfd, evs, 32, next_timeout(now_ms()));
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (int e = 0; e < n; e++) {
			enum kind k = (enum kind)(evs[e].data.u64 >> 32);
			uint32_t idx = (uint32_t)evs[e].data.u64;
			switch (k) {
			case K_SIGNAL: return 0;
			case K_UDP: udp_readable((int)idx); break;
			case K_TCP_LISTEN: tcp_accept((int)idx); break;
			case K_TCP_CONN:
				if (conns[idx].fd < 0)
					break;
				if (evs[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					tcp_readable((int)idx);
				if (conns[idx].fd >= 0 && (evs[e].events & EPOLLOUT))
					tcp_flush((int)idx);
				break;
			case K_UPSTREAM:
				if (pending[idx].fd < 0)
					break;
				if (pending[idx].tcp_up)
					upstream_tcp_event(&pending[idx], evs[e].events);
				else
					upstream_udp_readable(&pending[idx]);
				break;
			}
		}
		expire(now_ms());
	}
}
