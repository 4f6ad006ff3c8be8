/* netlink.c - rtnetlink over libmnl (see netlink.h).
 *
 *   struct nl, nl_open(), nl_open_in_netns(), nl_close()
 *                          one socket, its sequence numbers, a batch of requests being
 *                          built and the requests waiting for their acks
 *   nl_put(), nl_send(), nl_run()
 *                          queue a request (always NLM_F_ACK); send the batch in one
 *                          sendto; send what is left and read replies until every
 *                          request is acked, reporting the first failure
 *   link_info_parse()      the attributes of an RTM_NEWLINK that we use
 *   put_addr(), put_default_route()
 *   net_addr_*, net_link_index(), net_bridge_ensure(), net_link_delete(),
 *   net_veth_attach(), net_ns_link_delete(), net_links_with_alias()
 *
 * Batching: rtnetlink handles the messages of one sendto in order, one after
 * the other, and acks each. So a batch may hold requests that depend on the
 * ones before it (create a link, then look it up); when one fails the later
 * ones usually fail too, and the first failure is the one reported.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <net/if.h> /* before linux/if.h, which then steps aside */
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/strv.h"
#include "common/xalloc.h"
#include "net/netlink.h"

/* Upper bound of one message we build: names are < IFNAMSIZ, the alias is
 * checked against ALIAS_MAX, everything else is fixed size. */
#define NL_MSG_MAX 1024
/* The kernel's IFALIASZ less the NUL. */
#define ALIAS_MAX 255
/* Receive buffer: the kernel sizes dump messages to fit 32 KiB (libmnl's
 * MNL_SOCKET_DUMP_SIZE, which 1.0.4 lacks). */
#define NL_RECV_SIZE 32768

struct nl_req {
	unsigned int seq;
	char *what;   /* "create bridge berth0", for the error message */
	int ok_errno; /* an errno that counts as success here (EEXIST, ENODEV), or 0 */
	mnl_cb_t cb;  /* called with each data reply, or NULL */
	void *data;
	int error;  /* positive errno from the ack, 0 when acked */
	char *kmsg; /* the kernel's extended ack text, or NULL */
	bool done;
	bool intr; /* a dump that saw NLM_F_DUMP_INTR: the caller may retry */
};

struct nl {
	struct mnl_socket *sock;
	unsigned int portid;
	unsigned int seq;
	char *out; /* the batch being built */
	size_t outlen, outcap;
	struct nl_req *reqs; /* sent or queued, not yet reported */
	size_t nreqs;
	char *in;  /* NL_RECV_SIZE bytes */
	bool intr; /* the last nl_run() saw an interrupted dump */
};

static void nl_reqs_clear(struct nl *nl)
{
	for (size_t i = 0; i < nl->nreqs; i++) {
		free(nl->reqs[i].what);
		free(nl->reqs[i].kmsg);
	}
	nl->nreqs = 0;
}

static void nl_close(struct nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
	nl_reqs_clear(nl);
	free(nl->reqs);
	free(nl->out);
	free(nl->in);
	nl->reqs = NULL;
	nl->out = nl->in = NULL;
}

#define _cleanup_nl_ __attribute__((cleanup(nl_close)))

/* Open a route netlink socket in the calling thread's network namespace. */
static int nl_open(struct nl *nl, berth_err *err)
{
	*nl = (struct nl){ 0 };
	nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl->sock)
		return berth_error_errno(err, "cannot open a netlink socket");
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		int r = berth_error_errno(err, "cannot bind a netlink socket");
		nl_close(nl);
		return r;
	}
	/* Connected to the kernel, the socket refuses datagrams from other
	 * sockets: in a container's namespace, a process with CAP_NET_ADMIN
	 * there could otherwise forge our acks. */
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	if (connect(mnl_socket_get_fd(nl->sock), (struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		int r = berth_error_errno(err, "cannot connect a netlink socket");
		nl_close(nl);
		return r;
	}
	/* Extended acks carry the kernel's reason ("Unknown device type");
	 * capped acks do not echo our request back. Both are optional. */
	int one = 1;
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (unsigned int)time(NULL);
	nl->in = xmalloc(NL_RECV_SIZE);
	return 0;
}

/* Open the socket inside the namespace of netns_fd without forking: a socket
 * belongs for good to the namespace it was created in, so the calling thread
 * enters the namespace only for socket() and bind() and comes back. */
static int nl_open_in_netns(struct nl *nl, int netns_fd, berth_err *err)
{
	_cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return berth_error_errno(err, "cannot open /proc/thread-self/ns/net");
	if (setns(netns_fd, CLONE_NEWNET) < 0)
		return berth_error_errno(err, "cannot enter the container's network namespace");
	int r = nl_open(nl, err);
	/* Going back to a namespace this thread was in a moment ago can only
	 * fail if the kernel is out of memory. Carrying on would run the
	 * caller's later network work inside a container: stop instead. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	return r;
}

static void nl_reserve(struct nl *nl, size_t n)
{
	if (nl->outcap - nl->outlen >= n)
		return;
	size_t cap = nl->outcap ? nl->outcap : 4096;
	while (cap - nl->outlen < n)
		cap *= 2;
	nl->out = xrealloc(nl->out, cap);
	nl->outcap = cap;
}

/* Start a request at the end of the batch; what (owned) names it in errors.
 * The returned header is valid until the next nl_put(). */
static struct nlmsghdr *nl_put(struct nl *nl, uint16_t type, uint16_t flags, int ok_errno,
			       char *what)
{
	nl_reserve(nl, NL_MSG_MAX);
	memset(nl->out + nl->outlen, 0, NL_MSG_MAX);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(nl->out + nl->outlen);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	nl->reqs = xrealloc(nl->reqs, (nl->nreqs + 1) * sizeof(*nl->reqs));
	nl->reqs[nl->nreqs++] = (struct nl_req){
		.seq = nlh->nlmsg_seq,
		.what = what,
		.ok_errno = ok_errno,
	};
	return nlh;
}

static struct nl_req *nl_last(struct nl *nl)
{
	return &nl->reqs[nl->nreqs - 1];
}

/* Close the message nl_put() started: it joins the batch. */
static void nl_end(struct nl *nl, struct nlmsghdr *nlh)
{
	nl->outlen += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int nl_send(struct nl *nl, berth_err *err)
{
	if (!nl->outlen)
		return 0;
	ssize_t n = mnl_socket_sendto(nl->sock, nl->out, nl->outlen);
	if (n < 0 || (size_t)n != nl->outlen) {
		int e = n < 0 ? errno : EMSGSIZE;
		nl->outlen = 0;
		nl_reqs_clear(nl);
		return berth_error(err, e, "cannot send to netlink");
	}
	nl->outlen = 0;
	return 0;
}

static struct nl_req *nl_find(struct nl *nl, unsigned int seq)
{
	for (size_t i = 0; i < nl->nreqs; i++)
		if (nl->reqs[i].seq == seq && !nl->reqs[i].done)
			return &nl->reqs[i];
	return NULL;
}

static int extack_attr_cb(const struct nlattr *attr, void *data)
{
	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		*(const char **)data = mnl_attr_get_str(attr);
	return MNL_CB_OK;
}

static void nl_ack(struct nl_req *r, const struct nlmsghdr *nlh)
{
	r->done = true;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(struct nlmsgerr)) {
		r->error = EBADMSG;
		return;
	}
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	r->error = e->error < 0 ? -e->error : e->error;
	if (!r->error || !(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	size_t off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr))
			return;
		off = MNL_ALIGN(off + e->msg.nlmsg_len - sizeof(struct nlmsghdr));
	}
	if (off >= mnl_nlmsg_get_payload_len(nlh))
		return;
	const char *msg = NULL;
	mnl_attr_parse(nlh, off, extack_attr_cb, &msg);
	if (msg && *msg)
		r->kmsg = xstrdup(msg);
}

static size_t nl_pending(const struct nl *nl)
{
	size_t n = 0;
	for (size_t i = 0; i < nl->nreqs; i++)
		n += !nl->reqs[i].done;
	return n;
}

/* One datagram from the kernel into nl->in: its length, or -errno. */
static ssize_t nl_recv(struct nl *nl)
{
	for (;;) {
		struct sockaddr_nl from = { 0 };
		struct iovec iov = { nl->in, NL_RECV_SIZE };
		struct msghdr msg = {
			.msg_name = &from,
			.msg_namelen = sizeof(from),
			.msg_iov = &iov,
			.msg_iovlen = 1,
		};
		ssize_t n = recvmsg(mnl_socket_get_fd(nl->sock), &msg, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (msg.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		if (from.nl_pid == 0)
			return n;
	}
}

/* Send what is queued, read replies until every request has its ack (or,
 * for a dump, its NLMSG_DONE), then report the first request that failed. */
static int nl_run(struct nl *nl, berth_err *err)
{
	int r = nl_send(nl, err);
	if (r < 0)
		return r;
	nl->intr = false;
	while (nl_pending(nl)) {
		ssize_t n = nl_recv(nl);
		if (n < 0) {
			r = berth_error(err, (int)-n, "cannot read from netlink");
			nl_reqs_clear(nl);
			return r;
		}
		int len = (int)n;
		for (const struct nlmsghdr *nlh = (const struct nlmsghdr *)nl->in;
		     mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
			if (nlh->nlmsg_pid != nl->portid)
				continue;
			struct nl_req *r = nl_find(nl, nlh->nlmsg_seq);
			if (!r)
				continue; /* the ack of a finished dump, or not ours */
			if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
				r->intr = true;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				nl_ack(r, nlh);
			} else if (nlh->nlmsg_type == NLMSG_DONE) {
				r->done = true;
				if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
					int e = *(const int *)mnl_nlmsg_get_payload(nlh);
					r->error = e < 0 ? -e : 0;
				}
			} else if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && r->cb) {
				if (r->cb(nlh, r->data) < MNL_CB_STOP && !r->error)
					r->error = EBADMSG;
			}
		}
	}
	int ret = 0;
	for (size_t i = 0; i < nl->nreqs && !ret; i++) {
		struct nl_req *r = &nl->reqs[i];
		nl->intr |= r->intr;
		if (!r->error || r->error == r->ok_errno)
			continue;
		if (r->kmsg)
			ret = berth_error_code(err, r->error, "cannot %s: %s (%s)", r->what,
					       strerror(r->error), r->kmsg);
		else
			ret = berth_error(err, r->error, "cannot %s", r->what);
	}
	nl_reqs_clear(nl);
	return ret;
}

static bool ifname_ok(const char *name)
{
	return name && *name && strlen(name) < IFNAMSIZ && !strchr(name, '/') &&
	       !strpbrk(name, " \t\n:") && strcmp(name, ".") && strcmp(name, "..");
}

static struct ifinfomsg *put_ifinfo(struct nlmsghdr *nlh, int index, bool up)
{
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = index;
	if (up) {
		ifm->ifi_flags = IFF_UP;
		ifm->ifi_change = IFF_UP;
	}
	return ifm;
}

/* What we read from an RTM_NEWLINK. */
struct link_info {
	int index;
	unsigned int mtu;
	int link; /* IFLA_LINK: for a veth, the peer's index in its namespace; 0 when absent */
	char name[IFNAMSIZ];
	char kind[32];
	char *alias; /* owned */
};

static int linkinfo_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;
	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_STRING) == 0) {
		size_t n = mnl_attr_get_payload_len(attr);
		if (n >= sizeof(li->kind))
			n = sizeof(li->kind) - 1;
		memcpy(li->kind, mnl_attr_get_payload(attr), n);
		li->kind[n] = '\0';
	}
	return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *attr, void *data)
{
	struct link_info *li = data;
	size_t n = mnl_attr_get_payload_len(attr);
	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (n && n <= sizeof(li->name)) {
			memcpy(li->name, mnl_attr_get_payload(attr), n);
			li->name[n - 1] = '\0';
		}
		break;
	case IFLA_IFALIAS:
		free(li->alias);
		li->alias = xstrndup(mnl_attr_get_payload(attr), n);
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			li->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_LINK:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			li->link = (int)mnl_attr_get_u32(attr);
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(attr, linkinfo_attr_cb, li);
		break;
	}
	return MNL_CB_OK;
}

static void link_info_parse(const struct nlmsghdr *nlh, struct link_info *li)
{
	free(li->alias);
	*li = (struct link_info){ 0 };
	if (nlh->nlmsg_type != RTM_NEWLINK ||
	    mnl_nlmsg_get_payload_len(nlh) < sizeof(struct ifinfomsg))
		return;
	const struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);
	li->index = ifm->ifi_index;
	mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, li);
}

static int link_info_cb(const struct nlmsghdr *nlh, void *data)
{
	link_info_parse(nlh, data);
	return MNL_CB_OK;
}

/* Queue an RTM_GETLINK of one link by name; its reply fills *li. */
static void put_getlink(struct nl *nl, const char *name, struct link_info *li, char *what)
{
	struct nlmsghdr *nlh = nl_put(nl, RTM_GETLINK, 0, 0, what);
	put_ifinfo(nlh, 0, false);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
	nl_end(nl, nlh);
	nl_last(nl)->cb = link_info_cb;
	nl_last(nl)->data = li;
}

static void put_dellink(struct nl *nl, const char *name, char *what)
{
	struct nlmsghdr *nlh = nl_put(nl, RTM_DELLINK, 0, ENODEV, what);
	put_ifinfo(nlh, 0, false);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	nl_end(nl, nlh);
}

static size_t addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static bool addr_ok(const struct net_addr *a)
{
	return a && ((a->family == AF_INET && a->prefix >= 0 && a->prefix <= 32) ||
		     (a->family == AF_INET6 && a->prefix >= 0 && a->prefix <= 128));
}

/* Queue adding a to link index (named ifname in errors). IPv6 addresses skip
 * duplicate address detection so that they work at once. */
static void put_addr(struct nl *nl, int index, const char *ifname, const struct net_addr *a,
		     int ok_errno)
{
	char s[NET_ADDR_STRLEN];
	net_addr_format(a, true, s, sizeof(s));
	struct nlmsghdr *nlh = nl_put(nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ok_errno,
				      xasprintf("add address %s to %s", s, ifname));
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	uint32_t flags = IFA_F_PERMANENT | (a->family == AF_INET6 ? IFA_F_NODAD : 0);
	ifa->ifa_family = (unsigned char)a->family;
	ifa->ifa_prefixlen = (unsigned char)a->prefix;
	ifa->ifa_flags = (unsigned char)flags;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (unsigned int)index;
	mnl_attr_put(nlh, IFA_LOCAL, addr_len(a->family), a->addr);
	mnl_attr_put(nlh, IFA_ADDRESS, addr_len(a->family), a->addr);
	if (a->family == AF_INET && a->prefix < 31) {
		uint32_t ip, mask = a->prefix ? htonl(~0u << (32 - a->prefix)) : 0;
		memcpy(&ip, a->addr, 4);
		uint32_t brd = ip | ~mask;
		mnl_attr_put(nlh, IFA_BROADCAST, 4, &brd);
	}
	mnl_attr_put_u32(nlh, IFA_FLAGS, flags);
	nl_end(nl, nlh);
}

static void put_default_route(struct nl *nl, int index, const char *ifname,
			      const struct net_addr *gw)
{
	char s[NET_ADDR_STRLEN];
	net_addr_format(gw, false, s, sizeof(s));
	struct nlmsghdr *nlh = nl_put(nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, 0,
				      xasprintf("add default route via %s on %s", s, ifname));
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	rtm->rtm_family = (unsigned char)gw->family;
	rtm->rtm_dst_len = 0;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_BOOT;
	rtm->rtm_scope = RT_SCOPE_UNIVERSE;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put_u32(nlh, RTA_TABLE, RT_TABLE_MAIN);
	mnl_attr_put(nlh, RTA_GATEWAY, addr_len(gw->family), gw->addr);
	mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t)index);
	nl_end(nl, nlh);
}

int net_addr_parse(const char *s, struct net_addr *a)
{
	if (!s || !a)
		return -EINVAL;
	const char *slash = strchr(s, '/');
	size_t hlen = slash ? (size_t)(slash - s) : strlen(s);
	char host[INET6_ADDRSTRLEN];
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	struct net_addr r = { 0 };
	int max;
	if (inet_pton(AF_INET, host, r.addr) == 1) {
		r.family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, r.addr) == 1) {
		r.family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	r.prefix = max;
	if (slash) {
		const char *p = slash + 1;
		size_t n = strspn(p, "0123456789");
		/* Digits only, no sign or space, no leading zero ("/024"). */
		if (n == 0 || n > 3 || p[n] != '\0' || (n > 1 && p[0] == '0'))
			return -EINVAL;
		int v = atoi(p);
		if (v > max)
			return -EINVAL;
		r.prefix = v;
	}
	*a = r;
	return 0;
}

void net_addr_format(const struct net_addr *a, bool with_prefix, char *buf, size_t len)
{
	if (!buf || !len)
		return;
	buf[0] = '\0';
	char host[INET6_ADDRSTRLEN];
	if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
	    !inet_ntop(a->family, a->addr, host, sizeof(host)))
		return;
	if (with_prefix)
		snprintf(buf, len, "%s/%d", host, a->prefix);
	else
		snprintf(buf, len, "%s", host);
}

int net_link_index(const char *name)
{
	if (!ifname_ok(name))
		return -ENODEV;
	unsigned int i = if_nametoindex(name);
	return i ? (int)i : -ENODEV;
}

/* A random unicast, locally administered MAC. A bridge created without one
 * takes the lowest MAC of its ports and changes it as containers come and
 * go, which makes the containers' ARP entries for the gateway stale. */
static void random_mac(unsigned char mac[6])
{
	size_t got = 0;
	while (got < 6) {
		ssize_t n = getrandom(mac + got, 6 - got, 0);
		if (n > 0)
			got += (size_t)n;
		else if (errno != EINTR)
			break;
	}
	for (; got < 6; got++)
		mac[got] = (unsigned char)rand();
	mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02);
}

int net_bridge_ensure(const char *name, const char *alias, const struct net_addr *addrs,
		      size_t naddrs, int mtu, berth_err *err)
{
	if (!ifname_ok(name))
		return berth_error(err, EINVAL, "invalid bridge name \"%s\"", name ? name : "");
	if (alias && strlen(alias) > ALIAS_MAX)
		return berth_error(err, EINVAL, "bridge %s: alias longer than %d bytes", name,
				   ALIAS_MAX);
	if (mtu < 0)
		return berth_error(err, EINVAL, "bridge %s: invalid mtu %d", name, mtu);
	for (size_t i = 0; i < naddrs; i++)
		if (!addr_ok(&addrs[i]))
			return berth_error(err, EINVAL, "bridge %s: invalid address", name);

	_cleanup_nl_ struct nl nl = { 0 };
	int r = nl_open(&nl, err);
	if (r < 0)
		return r;

	/* Create (a racing creator's EEXIST is fine) and look it up: one batch. */
	unsigned char mac[6];
	random_mac(mac);
	struct nlmsghdr *nlh = nl_put(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, EEXIST,
				      xasprintf("create bridge %s", name));
	put_ifinfo(nlh, 0, false);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put(nlh, IFLA_ADDRESS, sizeof(mac), mac);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_str(nlh, IFLA_INFO_KIND, "bridge");
	mnl_attr_nest_end(nlh, linkinfo);
	nl_end(&nl, nlh);
	struct link_info li = { 0 };
	put_getlink(&nl, name, &li, xasprintf("find bridge %s", name));
	r = nl_run(&nl, err);
	_cleanup_free_ char *li_alias = li.alias;
	if (r < 0)
		return r;
	if (strcmp(li.kind, "bridge") != 0)
		return berth_error_code(err, EEXIST,
					"cannot create bridge %s: a link of type %s has that name",
					name, li.kind[0] ? li.kind : "unknown");

	/* Alias, mtu and up by index, then the addresses: a second batch. */
	nlh = nl_put(&nl, RTM_SETLINK, 0, 0, xasprintf("set up bridge %s", name));
	put_ifinfo(nlh, li.index, true);
	if (alias)
		mnl_attr_put_str(nlh, IFLA_IFALIAS, alias);
	if (mtu > 0)
		mnl_attr_put_u32(nlh, IFLA_MTU, (uint32_t)mtu);
	nl_end(&nl, nlh);
	for (size_t i = 0; i < naddrs; i++)
		put_addr(&nl, li.index, name, &addrs[i], EEXIST);
	return nl_run(&nl, err);
}

int net_link_delete(const char *name, berth_err *err)
{
	if (!ifname_ok(name))
		return berth_error(err, EINVAL, "invalid interface name \"%s\"", name ? name : "");
	_cleanup_nl_ struct nl nl = { 0 };
	int r = nl_open(&nl, err);
	if (r < 0)
		return r;
	put_dellink(&nl, name, xasprintf("delete %s", name));
	return nl_run(&nl, err);
}

static int veth_check(const struct net_veth *v, berth_err *err)
{
	if (!v || !ifname_ok(v->host_name))
		return berth_error(err, EINVAL, "invalid veth name \"%s\"",
				   v && v->host_name ? v->host_name : "");
	if (!ifname_ok(v->ifname) || !ifname_ok(v->bridge))
		return berth_error(err, EINVAL, "veth %s: invalid interface or bridge name",
				   v->host_name);
	if (v->alias && strlen(v->alias) > ALIAS_MAX)
		return berth_error(err, EINVAL, "veth %s: alias longer than %d bytes", v->host_name,
				   ALIAS_MAX);
	if (v->mtu < 0)
		return berth_error(err, EINVAL, "veth %s: invalid mtu %d", v->host_name, v->mtu);
	for (size_t i = 0; i < v->naddrs; i++)
		if (!addr_ok(&v->addrs[i]))
			return berth_error(err, EINVAL, "veth %s: invalid address", v->host_name);
	if ((v->gw4 && (!addr_ok(v->gw4) || v->gw4->family != AF_INET)) ||
	    (v->gw6 && (!addr_ok(v->gw6) || v->gw6->family != AF_INET6)))
		return berth_error(err, EINVAL, "veth %s: invalid gateway", v->host_name);
	return 0;
}

/* The inside part of net_veth_attach(): lo and the peer up, the peer's
 * addresses and the default routes, in one batch on a socket of the
 * namespace. The peer was made with its mac and mtu already. */
static int veth_configure_inside(int netns_fd, const struct net_veth *v, int peer_index,
				 berth_err *err)
{
	_cleanup_nl_ struct nl in = { 0 };
	int r = nl_open_in_netns(&in, netns_fd, err);
	if (r < 0)
		return r;
	if (peer_index <= 0) {
		struct link_info li = { 0 };
		put_getlink(&in, v->ifname, &li, xasprintf("find %s", v->ifname));
		r = nl_run(&in, err);
		free(li.alias);
		if (r < 0)
			return r;
		peer_index = li.index;
	}
	struct nlmsghdr *nlh = nl_put(&in, RTM_SETLINK, 0, 0, xstrdup("bring up lo"));
	put_ifinfo(nlh, 0, true);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, "lo");
	nl_end(&in, nlh);
	/* Up before the addresses and routes: a gateway is only reachable
	 * through a link that is up. */
	nlh = nl_put(&in, RTM_SETLINK, 0, 0, xasprintf("bring up %s", v->ifname));
	put_ifinfo(nlh, peer_index, true);
	nl_end(&in, nlh);
	for (size_t i = 0; i < v->naddrs; i++)
		put_addr(&in, peer_index, v->ifname, &v->addrs[i], 0);
	if (v->gw4)
		put_default_route(&in, peer_index, v->ifname, v->gw4);
	if (v->gw6)
		put_default_route(&in, peer_index, v->ifname, v->gw6);
	return nl_run(&in, err);
}

int net_veth_attach(int netns_fd, const struct net_veth *v, berth_err *err)
{
	int r = veth_check(v, err);
	if (r < 0)
		return r;
	_cleanup_nl_ struct nl nl = { 0 };
	r = nl_open(&nl, err);
	if (r < 0)
		return r;

	struct link_info br = { 0 };
	put_getlink(&nl, v->bridge, &br, xasprintf("find bridge %s", v->bridge));
	r = nl_run(&nl, err);
	free(br.alias);
	if (r < 0)
		return r;
	uint32_t mtu = v->mtu > 0 ? (uint32_t)v->mtu : br.mtu;

	/* The pair, the host end up on the bridge, the peer born in the
	 * namespace under its final name; then the host end read back for
	 * the peer's index (IFLA_LINK) so the inside needs no lookup. */
	struct nlmsghdr *nlh =
		nl_put(&nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, 0,
		       xasprintf("create veth %s (%s in the container)", v->host_name, v->ifname));
	put_ifinfo(nlh, 0, true);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->host_name);
	mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)br.index);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_str(nlh, IFLA_INFO_KIND, "veth");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	struct nlattr *peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	/* Down: asking for the peer up here fails the whole create with
	 * ENOTCONN; the inside batch brings it up. */
	put_ifinfo(nlh, 0, false);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, v->ifname);
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)netns_fd);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (v->mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, 6, v->mac);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	nl_end(&nl, nlh);
	struct link_info host = { 0 };
	put_getlink(&nl, v->host_name, &host, xasprintf("find %s", v->host_name));
	r = nl_run(&nl, err);
	_cleanup_free_ char *host_alias = host.alias;
	if (r < 0)
		return r; /* the kernel made nothing, or undid it */

	/* The alias is only set on a link we just made (a SETLINK by name in
	 * the first batch would have retagged someone else's link when the
	 * create failed). Its ack is read after the inside work. */
	if (v->alias) {
		nlh = nl_put(&nl, RTM_SETLINK, 0, 0,
			     xasprintf("set the alias of %s", v->host_name));
		put_ifinfo(nlh, host.index, false);
		mnl_attr_put_str(nlh, IFLA_IFALIAS, v->alias);
		nl_end(&nl, nlh);
	}
	/* Hairpin mode on its bridge port, as Docker without its proxy: a
	 * container reaches its own published port through a host address.
	 * (Slave data is read by NEWLINK only; SETLINK ignores it.) */
	nlh = nl_put(&nl, RTM_NEWLINK, 0, 0, xasprintf("set hairpin mode on %s", v->host_name));
	put_ifinfo(nlh, host.index, false);
	struct nlattr *li = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_str(nlh, IFLA_INFO_SLAVE_KIND, "bridge");
	struct nlattr *sd = mnl_attr_nest_start(nlh, IFLA_INFO_SLAVE_DATA);
	mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
	mnl_attr_nest_end(nlh, sd);
	mnl_attr_nest_end(nlh, li);
	nl_end(&nl, nlh);
	r = nl_send(&nl, err);
	/* A veth reports its peer's index as IFLA_LINK, omitted when the two
	 * indexes are equal. */
	if (r == 0)
		r = veth_configure_inside(netns_fd, v, host.link ? host.link : host.index, err);
	if (r == 0)
		r = nl_run(&nl, err);
	else
		nl_reqs_clear(&nl); /* the alias ack no longer matters */
	if (r < 0) {
		/* Deleting the host end takes the peer with it. */
		berth_err derr = BERTH_ERR_INIT;
		put_dellink(&nl, v->host_name, xasprintf("delete %s", v->host_name));
		if (nl_run(&nl, &derr) < 0 && err && err->msg) {
			char *both = xasprintf("%s (and %s)", err->msg, derr.msg);
			free(err->msg);
			err->msg = both;
		}
		berth_err_clear(&derr);
	}
	return r;
}

int net_ns_link_delete(int netns_fd, const char *ifname, berth_err *err)
{
	if (!ifname_ok(ifname))
		return berth_error(err, EINVAL, "invalid interface name \"%s\"",
				   ifname ? ifname : "");
	_cleanup_nl_ struct nl in = { 0 };
	int r = nl_open_in_netns(&in, netns_fd, err);
	if (r < 0)
		return r;
	put_dellink(&in, ifname, xasprintf("delete %s in the container", ifname));
	return nl_run(&in, err);
}

struct alias_match {
	const char *prefix;
	size_t len;
	char **names;
};

static int alias_match_cb(const struct nlmsghdr *nlh, void *data)
{
	struct alias_match *m = data;
	struct link_info li = { 0 };
	link_info_parse(nlh, &li);
	if (li.alias && li.name[0] && strncmp(li.alias, m->prefix, m->len) == 0)
		strv_push(&m->names, li.name);
	free(li.alias);
	return MNL_CB_OK;
}

int net_links_with_alias(const char *alias_prefix, char ***names, berth_err *err)
{
	*names = NULL;
	if (!alias_prefix)
		return berth_error(err, EINVAL, "no alias prefix");
	_cleanup_nl_ struct nl nl = { 0 };
	int r = nl_open(&nl, err);
	if (r < 0)
		return r;
	/* A dump that raced with a change says so (NLM_F_DUMP_INTR) and may
	 * have missed a link: take it again. */
	for (int attempt = 1;; attempt++) {
		struct alias_match m = { alias_prefix, strlen(alias_prefix), NULL };
		struct nlmsghdr *nlh =
			nl_put(&nl, RTM_GETLINK, NLM_F_DUMP, 0, xstrdup("list links"));
		put_ifinfo(nlh, 0, false);
		mnl_attr_put_u32(nlh, IFLA_EXT_MASK, RTEXT_FILTER_SKIP_STATS);
		nl_end(&nl, nlh);
		nl_last(&nl)->cb = alias_match_cb;
		nl_last(&nl)->data = &m;
		r = nl_run(&nl, err);
		if (r == 0 && nl.intr) {
			strv_free(m.names);
			if (attempt < 5)
				continue;
			return berth_error_code(
				err, EAGAIN,
				"cannot list links: they kept changing during the dump");
		}
		if (r < 0) {
			strv_free(m.names);
			return r;
		}
		*names = m.names ? m.names : xcalloc(1, sizeof(char *));
		return 0;
	}
}
