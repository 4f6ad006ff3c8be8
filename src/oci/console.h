/* console.h - the container's terminal.
 *
 * The pty is opened inside the container (its own devpts) by the init, the
 * master is passed back to the runtime over the sync socket, and the runtime
 * either sends it to --console-socket (runc's contract: connect to the unix
 * socket and send one message whose payload is the pty name and whose
 * SCM_RIGHTS carries the master fd) or proxies it to its own stdio.
 *
 *   console_open_pty()    open /dev/ptmx, unlock, return master and slave path
 *   console_make_ctty()   in the child: setsid, open slave, TIOCSCTTY, dup2 to 0/1/2
 *   console_set_size()    TIOCSWINSZ
 *   console_send_master() connect to socket_path and send the master (runc's contract)
 *   console_proxy()       copy stdin->master and master->stdout until the master hangs up;
 *                         stdin set raw while proxying if it is a tty; SIGWINCH resizes
 */
#ifndef BERTH_OCI_CONSOLE_H
#define BERTH_OCI_CONSOLE_H

#include <stdbool.h>

#include "common/error.h"

int console_open_pty(int *master, char **slave_path, berth_err *err);
int console_make_ctty(const char *slave_path, berth_err *err);
int console_set_size(int fd, unsigned int rows, unsigned int cols, berth_err *err);
int console_send_master(const char *socket_path, int master, const char *name, berth_err *err);
int console_proxy(int master, int in_fd, int out_fd, berth_err *err);

#endif
