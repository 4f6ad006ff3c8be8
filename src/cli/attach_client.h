/* attach_client.h - the CLI's end of a container's attach socket.
 *
 *   attach_stream()  copy stdin to the container and its output to stdout and
 *                    stderr until it exits (0, *exit_code set), the user types
 *                    the detach keys (ATTACH_DETACHED) or the monitor goes
 *                    away (ATTACH_LOST). With a tty the terminal is raw and
 *                    resizes are sent; with sig_proxy, signals to the CLI go
 *                    to the container (docker's --sig-proxy).
 */
#ifndef BERTH_CLI_ATTACH_CLIENT_H
#define BERTH_CLI_ATTACH_CLIENT_H

#include <stdbool.h>

struct engine;

enum { ATTACH_DETACHED = 1, ATTACH_LOST = 2 };

struct attach_params {
	int fd;
	bool tty;
	bool stdin_on;
	bool sig_proxy;
	const char *detach_keys;
	struct engine *engine; /* for sig_proxy */
	const char *id;
};

int attach_stream(const struct attach_params *ap, int *exit_code);

#endif
