/* recvtty.c - the other end of --console-socket, for tests: listen on a unix
 * socket, take one connection, receive the pty master it carries (runc's
 * contract: SCM_RIGHTS, payload = the pty's name), and copy what the
 * container writes to stdout until it closes the terminal.
 *
 *   recvtty [--mode single] [--pid-file FILE] [--print-name] SOCKET
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/fdpass.h"

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "print-name", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pid_file = NULL;
	int print_name = 0, c;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'm' && strcmp(optarg, "single") != 0) {
			fprintf(stderr, "recvtty: only --mode single is supported\n");
			return 2;
		}
		if (c == 'p')
			pid_file = optarg;
		else if (c == 'n')
			print_name = 1;
		else if (c == '?')
			return 2;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: recvtty [--mode single] [--pid-file FILE] [--print-name] SOCKET\n");
		return 2;
	}
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(argv[optind]) >= sizeof(sa.sun_path)) {
		fprintf(stderr, "recvtty: socket path too long\n");
		return 1;
	}
	strcpy(sa.sun_path, argv[optind]);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
		perror("recvtty: listen");
		return 1;
	}
	if (pid_file) {
		FILE *f = fopen(pid_file, "w");
		if (f) {
			fprintf(f, "%d", (int)getpid());
			fclose(f);
		}
	}
	int s = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
	if (s < 0) {
		perror("recvtty: accept");
		return 1;
	}
	char name[256];
	int master = -1;
	ssize_t n = fd_recv(s, &master, name, sizeof(name) - 1);
	if (n < 0 || master < 0) {
		fprintf(stderr, "recvtty: no terminal received\n");
		return 1;
	}
	name[n] = '\0';
	if (print_name)
		printf("%s\n", name);
	close(s);
	close(ls);
	unlink(sa.sun_path);
	char buf[4096];
	for (;;) {
		ssize_t r = read(master, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break; /* EIO: the container closed its terminal */
		fwrite(buf, 1, (size_t)r, stdout);
		fflush(stdout);
	}
	return 0;
}
