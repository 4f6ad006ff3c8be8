/* img_login.c - login and logout: credentials in Docker's config.json. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli/berth.h"
#include "common/cleanup.h"
#include "common/xalloc.h"
#include "image/auth.h"
#include "image/reference.h"
#include "image/registry.h"

/* "https://host:5000/v1/" -> "host:5000"; Docker Hub's names -> docker.io. */
static char *server_domain(const char *server)
{
	if (!server)
		return xstrdup(IMAGE_DEFAULT_DOMAIN);
	const char *p = strstr(server, "://");
	p = p ? p + 3 : server;
	char *d = xstrndup(p, strcspn(p, "/"));
	if (strcmp(d, "index.docker.io") == 0 || strcmp(d, "registry-1.docker.io") == 0) {
		free(d);
		d = xstrdup(IMAGE_DEFAULT_DOMAIN);
	}
	return d;
}

/* One line from stdin without its newline; echo off when it is a terminal. */
static char *read_line(bool secret)
{
	struct termios old, quiet;
	bool tty = secret && tcgetattr(STDIN_FILENO, &old) == 0;
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fprintf(stderr, "\n");
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

int cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "username", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-stdin", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	_cleanup_free_ char *user = NULL, *pass = NULL;
	bool from_stdin = false;
	int c;
	while ((c = getopt_long(argc, argv, "+u:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'u':
			free(user);
			user = xstrdup(optarg);
			break;
		case 'p':
			free(pass);
			pass = xstrdup(optarg);
			break;
		case 's': from_stdin = true; break;
		default: return berth_usage_error(argv[0], "unknown flag: %s", argv[optind - 1]);
		}
	}
	if (optind + 1 < argc)
		return berth_usage_error(argv[0], "\"login\" requires at most 1 argument.");
	if (pass && from_stdin)
		return berth_usage_error(argv[0],
					 "--password and --password-stdin are mutually exclusive");
	if (from_stdin && !user)
		return berth_usage_error(argv[0], "Must provide --username with --password-stdin");
	_cleanup_free_ char *domain = server_domain(optind < argc ? argv[optind] : NULL);
	if (pass)
		fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use "
				"--password-stdin.\n");
	if (from_stdin) {
		pass = read_line(false);
		if (!pass)
			pass = xstrdup("");
	}
	if (!user || !pass) {
		if (!isatty(STDIN_FILENO)) {
			fprintf(stderr, "Error: Cannot perform an interactive login from a non TTY "
					"device\n");
			return 1;
		}
		if (!user) {
			printf("Username: ");
			fflush(stdout);
			user = read_line(false);
		}
		if (user && !pass) {
			printf("Password: ");
			fflush(stdout);
			pass = read_line(true);
		}
		if (!user || !*user || !pass || !*pass) {
			fprintf(stderr, "Error: Username and password are required\n");
			return 1;
		}
	}
	berth_err err = BERTH_ERR_INIT;
	struct registry_opts ro = {
		.certs_dir = berth.certs_dir,
		.insecure = (const char *const *)berth.insecure,
		.mirror = berth.mirror,
		.username = user,
		.password = pass,
	};
	struct registry_client *rc = NULL;
	if (registry_client_new(domain, &ro, &rc, &err) < 0)
		return berth_fail(&err);
	int r = registry_login(rc, &err);
	registry_client_free(rc);
	if (r < 0)
		return berth_fail(&err);
	if (auth_save(berth.config_dir, domain, user, pass, &err) < 0)
		return berth_fail(&err);
	printf("Login Succeeded\n");
	return 0;
}

int cmd_logout(int argc, char **argv)
{
	if (argc > 1 && argv[1][0] == '-')
		return berth_usage_error(argv[0], "unknown flag: %s", argv[1]);
	if (argc > 2)
		return berth_usage_error(argv[0], "\"logout\" requires at most 1 argument.");
	_cleanup_free_ char *domain = server_domain(argc > 1 ? argv[1] : NULL);
	berth_err err = BERTH_ERR_INIT;
	int r = auth_remove(berth.config_dir, domain, &err);
	if (r < 0)
		return berth_fail(&err);
	if (r == 1)
		printf("Not logged in to %s\n", domain);
	else
		printf("Removing login credentials for %s\n", domain);
	return 0;
}
