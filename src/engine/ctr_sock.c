/* ctr_sock.c - the unix sockets of a container's run directory.
 *
 * A socket's path must fit sun_path (108 bytes), which a --runroot in a temp
 * dir plus a 64-hex id does not; so the directory is opened and the socket
 * named through /proc/self/fd/N/NAME, whatever the directory's length. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/xalloc.h"
#include "engine/engine_internal.h"
#include "monitor/attach_proto.h"

static int sock_addr(const char *dir, const char *name, struct sockaddr_un *sa, int *dirfd,
		     berth_err *err)
{
	*dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return berth_error_errno(err, "cannot open %s", dir);
	*sa = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(sa->sun_path, sizeof(sa->sun_path), "/proc/self/fd/%d/%s", *dirfd, name);
	return 0;
}

int ctr_sock_listen(const char *dir, const char *name, int type, berth_err *err)
{
	struct sockaddr_un sa;
	_cleanup_close_ int dfd = -1;
	int r;
	if ((r = sock_addr(dir, name, &sa, &dfd, err)) < 0)
		return r;
	unlinkat(dfd, name, 0);
	int fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_errno(err, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int e2 = errno;
		close(fd);
		return berth_error(err, e2, "cannot listen on %s/%s", dir, name);
	}
	return fd;
}

int ctr_attach_connect(struct engine *e, const char *id, unsigned flags, berth_err *err)
{
	_cleanup_free_ char *dir = ctr_rundir(e, id);
	struct sockaddr_un sa;
	_cleanup_close_ int dfd = -1;
	int r;
	if ((r = sock_addr(dir, "attach.sock", &sa, &dfd, err)) < 0)
		return r;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return berth_error_errno(err, "socket");
	unsigned char hello[2] = { ATTACH_MSG_HELLO, (unsigned char)flags };
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    send(fd, hello, sizeof(hello), MSG_NOSIGNAL) < 0) {
		int e2 = errno;
		close(fd);
		return berth_error(err, e2, "cannot attach to container %s", id);
	}
	return fd;
}

int ctr_attach(struct engine *e, const char *id, unsigned flags, berth_err *err)
{
	_cleanup_ctr_row_ struct ctr_row row = { 0 };
	int r;
	if ((r = ctr_row_load(e, id, &row, err)) < 0 || (r = ctr_refresh(e, &row, err)) < 0)
		return r;
	const char *s = json_string_value(json_object_get(row.state, "Status")) ?: "";
	if (!strcmp(s, "paused"))
		return berth_error_code(
			err, EINVAL, "You cannot attach to a paused container, unpause it first");
	if (!strcmp(s, "restarting"))
		return berth_error_code(
			err, EINVAL,
			"You cannot attach to a restarting container, wait until it is running");
	if (strcmp(s, "running"))
		return berth_error_code(err, EINVAL,
					"You cannot attach to a stopped container, start it first");
	return ctr_attach_connect(e, id, flags, err);
}
