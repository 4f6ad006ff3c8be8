/* attach_client.c - the terminal side of attach.sock (monitor/attach_proto.h):
 * the CLI's stdin to the container, its output to ours, the exit code back. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "cli/attach_client.h"
#include "common/signals.h"
#include "engine/engine.h"
#include "monitor/attach_proto.h"

static struct termios saved;
static bool raw_on;

static void restore_terminal(void)
{
	if (raw_on) {
		tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
		raw_on = false;
	}
}

static void make_raw(void)
{
	if (raw_on || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved) < 0)
		return;
	struct termios t = saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST; /* keep \n -> \r\n for our own messages */
	if (tcsetattr(STDIN_FILENO, TCSADRAIN, &t) == 0) {
		raw_on = true;
		atexit(restore_terminal);
	}
}

static void send_resize(int fd)
{
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
		return;
	unsigned char m[5] = { ATTACH_MSG_RESIZE };
	uint16_t rc[2] = { ws.ws_row, ws.ws_col };
	memcpy(m + 1, rc, sizeof(rc));
	send(fd, m, sizeof(m), MSG_NOSIGNAL);
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Docker's --detach-keys: "ctrl-p,ctrl-q" by default; "a" or "ctrl-X" items. */
static size_t parse_detach_keys(const char *spec, unsigned char *out, size_t max)
{
	size_t n = 0;
	const char *s = spec ? spec : "ctrl-p,ctrl-q";
	while (*s && n < max) {
		size_t len = strcspn(s, ",");
		if (len > 5 && !strncmp(s, "ctrl-", 5)) {
			char c = s[5];
			if (c >= 'a' && c <= 'z')
				out[n++] = (unsigned char)(c - 'a' + 1);
			else if (c == '@')
				out[n++] = 0;
			else if (c >= '[' && c <= '_')
				out[n++] = (unsigned char)(c - '[' + 27);
		} else if (len == 1) {
			out[n++] = (unsigned char)s[0];
		}
		s += len;
		if (*s == ',')
			s++;
	}
	return n;
}

int attach_stream(const struct attach_params *ap, int *exit_code)
{
	int fd = ap->fd;
	if (ap->tty && ap->stdin_on)
		make_raw();
	if (ap->tty)
		send_resize(fd);
	sigset_t mask, old;
	sigemptyset(&mask);
	sigaddset(&mask, SIGWINCH);
	if (ap->sig_proxy) {
		static const int fwd[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
		for (size_t i = 0; i < sizeof(fwd) / sizeof(fwd[0]); i++)
			sigaddset(&mask, fwd[i]);
	}
	sigprocmask(SIG_BLOCK, &mask, &old);
	int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	unsigned char keys[16];
	size_t nkeys = ap->tty ? parse_detach_keys(ap->detach_keys, keys, sizeof(keys)) : 0;
	size_t matched = 0;
	bool in_open = ap->stdin_on;
	int rc = ATTACH_DETACHED;
	static unsigned char buf[ATTACH_MAX_PAYLOAD + 1];
	for (;;) {
		struct pollfd p[3] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = in_open ? STDIN_FILENO : -1, .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = ATTACH_LOST;
			break;
		}
		if (p[2].revents) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGWINCH)
					send_resize(fd);
				else if (ap->engine && ap->id)
					ctr_kill(ap->engine, ap->id, (int)si.ssi_signo, NULL);
			}
		}
		if (p[0].revents) {
			ssize_t n = recv(fd, buf, sizeof(buf), 0);
			if (n <= 0) {
				rc = ATTACH_LOST;
				break;
			}
			if (buf[0] == ATTACH_MSG_EXIT && n >= 5) {
				int32_t c;
				memcpy(&c, buf + 1, sizeof(c));
				*exit_code = c;
				rc = 0;
				break;
			}
			int out = buf[0] == ATTACH_MSG_STDERR ? STDERR_FILENO : STDOUT_FILENO;
			if (buf[0] == ATTACH_MSG_STDOUT || buf[0] == ATTACH_MSG_STDERR)
				write_all(out, buf + 1, (size_t)n - 1);
		}
		if (p[1].revents) {
			buf[0] = ATTACH_MSG_STDIN;
			ssize_t n = read(STDIN_FILENO, buf + 1, ATTACH_MAX_PAYLOAD);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				unsigned char c = ATTACH_MSG_CLOSE;
				send(fd, &c, 1, MSG_NOSIGNAL);
				in_open = false;
				continue;
			}
			/* A detach sequence is held back until it is complete (detach)
			 * or broken (its bytes go to the container after all). */
			static unsigned char outb[ATTACH_MAX_PAYLOAD + sizeof(keys) + 1];
			size_t on = 1;
			bool detach = false;
			outb[0] = ATTACH_MSG_STDIN;
			for (size_t i = 1; i <= (size_t)n && !detach; i++) {
				unsigned char b = buf[i];
				if (nkeys && b == keys[matched]) {
					detach = ++matched == nkeys;
					continue;
				}
				if (matched) {
					memcpy(outb + on, keys, matched);
					on += matched;
					matched = 0;
					if (nkeys && b == keys[0]) {
						matched = 1;
						continue;
					}
				}
				outb[on++] = b;
			}
			if (on > 1 && send(fd, outb, on, MSG_NOSIGNAL) < 0) {
				rc = ATTACH_LOST;
				break;
			}
			if (detach) {
				rc = ATTACH_DETACHED;
				break;
			}
		}
	}
	restore_terminal();
	if (sfd >= 0)
		close(sfd);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}
