/* sync.c - the runtime <-> container-process step protocol (container_internal.h). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fdpass.h"
#include "common/xalloc.h"
#include "oci/container_internal.h"

#define SYNC_MAX 8192

int sync_send(int sock, enum sync_type type, int32_t value, const char *text, int fd)
{
	size_t tlen = text ? strnlen(text, SYNC_MAX - sizeof(struct sync_msg) - 1) : 0;
	char buf[SYNC_MAX];
	struct sync_msg m = { .type = type, .value = value };
	memcpy(buf, &m, sizeof(m));
	if (tlen)
		memcpy(buf + sizeof(m), text, tlen);
	buf[sizeof(m) + tlen] = '\0';
	if (fd >= 0)
		return fd_send(sock, fd, buf, sizeof(m) + tlen + 1);
	ssize_t r = TEMP_FAILURE_RETRY_INT(send(sock, buf, sizeof(m) + tlen + 1, MSG_NOSIGNAL));
	return r < 0 ? -errno : 0;
}

int sync_recv(int sock, enum sync_type want, int32_t *value, int *fd, berth_err *err)
{
	char buf[SYNC_MAX];
	int got_fd = -1;
	ssize_t n = fd_recv(sock, &got_fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return berth_error(err, (int)-n, "waiting for the container process");
	if (n == 0)
		return berth_error_code(err, EPIPE, "the container process exited during setup");
	if ((size_t)n < sizeof(struct sync_msg))
		return berth_error_code(err, EPROTO, "short message from the container process");
	buf[n] = '\0';
	struct sync_msg m;
	memcpy(&m, buf, sizeof(m));
	const char *text = buf + sizeof(m);
	if (m.type == SYNC_ERROR) {
		if (got_fd >= 0)
			close(got_fd);
		return berth_error_code(err, m.value > 0 ? m.value : EINVAL, "%s", text);
	}
	if (m.type != (uint32_t)want) {
		if (got_fd >= 0)
			close(got_fd);
		return berth_error_code(err, EPROTO, "unexpected step %u from the container process (wanted %d)",
					m.type, want);
	}
	if (value)
		*value = m.value;
	if (fd)
		*fd = got_fd;
	else if (got_fd >= 0)
		close(got_fd);
	return 0;
}

void sync_send_error(int sock, const berth_err *e)
{
	sync_send(sock, SYNC_ERROR, e->code, e->msg ? e->msg : strerror(e->code ? e->code : EINVAL), -1);
}
