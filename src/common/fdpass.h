/* fdpass.h - passing file descriptors over unix sockets (SCM_RIGHTS).
 *
 *   fd_send()   send len bytes of data with fd attached (fd < 0: data only)
 *   fd_recv()   receive up to len bytes; *fd gets the attached fd or -1; returns bytes read
 */
#ifndef BERTH_FDPASS_H
#define BERTH_FDPASS_H

#include <stddef.h>
#include <sys/types.h>

int fd_send(int sock, int fd, const void *data, size_t len);
ssize_t fd_recv(int sock, int *fd, void *data, size_t len);

#endif
