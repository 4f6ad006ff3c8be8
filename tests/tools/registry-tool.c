/* registry-tool.c - drive the registry client (src/image/registry.c) from the
 * system tests: one subcommand per call of the API.
 *
 *   registry-tool [OPTIONS] get-manifest HOST REPO REF        body on stdout
 *   registry-tool [OPTIONS] head-manifest HOST REPO REF       "DIGEST MEDIATYPE", exit 1 if absent
 *   registry-tool [OPTIONS] get-blob HOST REPO DIGEST SIZE    blob on stdout
 *   registry-tool [OPTIONS] put-blob HOST REPO FILE           prints the digest
 *   registry-tool [OPTIONS] put-manifest HOST REPO REF FILE MEDIATYPE   prints the digest
 *   registry-tool [OPTIONS] exists HOST REPO DIGEST           "SIZE", exit 1 if absent
 *   registry-tool [OPTIONS] mount HOST REPO DIGEST FROM       "mounted" or "upload"
 *   registry-tool [OPTIONS] login HOST
 *   registry-tool [OPTIONS] get-blob-many HOST REPO DIGEST SIZE THREADS ROUNDS
 *                 one client, THREADS threads each fetching the blob ROUNDS
 *                 times (verified, then dropped); prints "ok N" for N fetches
 *
 * Options: -u USER, -p PASSWORD, --certs-dir DIR, --insecure HOST (repeat),
 * --mirror URL, --retries N. Errors go to stderr as one line ending with the
 * errno name in brackets ("... [EBADMSG]"), exit status 2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/error.h"
#include "common/fileio.h"
#include "image/registry.h"

static int sink_stdout(void *opaque, const void *buf, size_t n, berth_err *err)
{
	int rc = fd_write_all(STDOUT_FILENO, buf, n);
	if (rc < 0)
		return berth_error(err, -rc, "writing the blob to stdout");
	return 0;
}

static int sink_discard(void *opaque, const void *buf, size_t n, berth_err *err)
{
	return 0;
}

struct many {
	struct registry_client *c;
	const char *repo, *digest;
	int64_t size;
	unsigned rounds;
	unsigned ok;
	berth_err err;
};

static void *fetch_many(void *arg)
{
	struct many *m = arg;
	for (unsigned i = 0; i < m->rounds; i++) {
		if (registry_get_blob(m->c, m->repo, m->digest, m->size, sink_discard, NULL, NULL,
				      NULL, &m->err) < 0)
			break;
		m->ok++;
	}
	return NULL;
}

static int fail(berth_err *err)
{
	const char *name = err->code ? strerrorname_np(err->code) : NULL;
	fprintf(stderr, "registry-tool: %s [%s]\n", err->msg ? err->msg : "error",
		name ? name : "?");
	return 2;
}

static int usage(void)
{
	fprintf(stderr, "usage: registry-tool [-u USER] [-p PASSWORD] [--certs-dir DIR] "
			"[--insecure HOST]... [--mirror URL] [--retries N] COMMAND ARGS...\n");
	return 64;
}

static int file_digest(int fd, char out[72], int64_t *size)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1)
		abort();
	char buf[65536];
	int64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			EVP_MD_CTX_free(md);
			return -errno;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += n;
	}
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned hl = 0;
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	strcpy(out, "sha256:");
	for (unsigned i = 0; i < hl; i++)
		sprintf(out + 7 + 2 * i, "%02x", h[i]);
	*size = total;
	return lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
}

int main(int argc, char **argv)
{
	struct registry_opts opts = { 0 };
	const char *insecure[16] = { 0 };
	size_t n_insecure = 0;
	static const struct option longopts[] = {
		{ "certs-dir", required_argument, NULL, 'c' },
		{ "insecure", required_argument, NULL, 'k' },
		{ "mirror", required_argument, NULL, 'm' },
		{ "retries", required_argument, NULL, 'r' },
		{ "user", required_argument, NULL, 'u' },
		{ "password", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	int o;
	while ((o = getopt_long(argc, argv, "+u:p:", longopts, NULL)) != -1) {
		switch (o) {
		case 'c':
			opts.certs_dir = optarg;
			break;
		case 'k':
			if (n_insecure + 1 >= ARRAY_SIZE(insecure))
				return usage();
			insecure[n_insecure++] = optarg;
			opts.insecure = insecure;
			break;
		case 'm':
			opts.mirror = optarg;
			break;
		case 'r':
			opts.max_retries = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'u':
			opts.username = optarg;
			break;
		case 'p':
			opts.password = optarg;
			break;
		default:
			return usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 2)
		return usage();
	const char *cmd = argv[0];
	_cleanup_err_ berth_err err = BERTH_ERR_INIT;
	struct registry_client *c = NULL;
	if (registry_client_new(argv[1], &opts, &c, &err) < 0)
		return fail(&err);
	int rc, status = 0;

	if (strcmp(cmd, "get-manifest") == 0 && argc == 4) {
		_cleanup_free_ char *body = NULL, *ct = NULL, *dg = NULL;
		size_t len = 0;
		rc = registry_get_manifest(c, argv[2], argv[3], &body, &len, &ct, &dg, &err);
		if (rc == 0 && fd_write_all(STDOUT_FILENO, body, len) < 0)
			rc = berth_error_errno(&err, "stdout");
	} else if (strcmp(cmd, "head-manifest") == 0 && argc == 4) {
		_cleanup_free_ char *ct = NULL, *dg = NULL;
		rc = registry_head_manifest(c, argv[2], argv[3], &ct, &dg, &err);
		if (rc == 1)
			printf("%s %s\n", dg, ct ? ct : "-");
		else if (rc == 0)
			status = 1;
	} else if (strcmp(cmd, "get-blob") == 0 && argc == 5) {
		int64_t size = strtoll(argv[4], NULL, 10);
		rc = registry_get_blob(c, argv[2], argv[3], size, sink_stdout, NULL, NULL, NULL,
				       &err);
	} else if (strcmp(cmd, "put-blob") == 0 && argc == 4) {
		_cleanup_close_ int fd = open(argv[3], O_RDONLY | O_CLOEXEC);
		char dg[72];
		int64_t size = 0;
		if (fd < 0)
			rc = berth_error_errno(&err, "%s", argv[3]);
		else if ((rc = file_digest(fd, dg, &size)) < 0)
			berth_error(&err, -rc, "%s", argv[3]);
		else if ((rc = registry_put_blob(c, argv[2], dg, fd, size, NULL, NULL, &err)) == 0)
			printf("%s\n", dg);
	} else if (strcmp(cmd, "put-manifest") == 0 && argc == 6) {
		_cleanup_free_ char *body = NULL, *dg = NULL;
		size_t len = 0;
		rc = file_read(argv[4], &body, &len, &err);
		if (rc == 0)
			rc = registry_put_manifest(c, argv[2], argv[3], body, len, argv[5], &dg,
						   &err);
		if (rc == 0)
			printf("%s\n", dg);
	} else if (strcmp(cmd, "exists") == 0 && argc == 4) {
		int64_t size = -1;
		rc = registry_blob_exists(c, argv[2], argv[3], &size, &err);
		if (rc == 1)
			printf("%" PRId64 "\n", size);
		else if (rc == 0)
			status = 1;
	} else if (strcmp(cmd, "mount") == 0 && argc == 5) {
		rc = registry_mount_blob(c, argv[2], argv[3], argv[4], &err);
		if (rc >= 0)
			printf("%s\n", rc == 1 ? "mounted" : "upload");
	} else if (strcmp(cmd, "get-blob-many") == 0 && argc == 7) {
		unsigned threads = (unsigned)strtoul(argv[5], NULL, 10);
		struct many m[64];
		pthread_t tid[64];
		if (threads < 1 || threads > ARRAY_SIZE(m)) {
			registry_client_free(c);
			return usage();
		}
		for (unsigned i = 0; i < threads; i++) {
			m[i] = (struct many){ c,
					      argv[2],
					      argv[3],
					      strtoll(argv[4], NULL, 10),
					      (unsigned)strtoul(argv[6], NULL, 10),
					      0,
					      BERTH_ERR_INIT };
			if (pthread_create(&tid[i], NULL, fetch_many, &m[i]) != 0)
				abort();
		}
		unsigned ok = 0;
		rc = 0;
		for (unsigned i = 0; i < threads; i++) {
			pthread_join(tid[i], NULL);
			ok += m[i].ok;
			if (m[i].err.msg && rc == 0) {
				rc = -m[i].err.code;
				err = m[i].err;
			} else {
				berth_err_clear(&m[i].err);
			}
		}
		if (rc == 0)
			printf("ok %u\n", ok);
	} else if (strcmp(cmd, "login") == 0 && argc == 2) {
		rc = registry_login(c, &err);
		if (rc == 0)
			printf("Login Succeeded\n");
	} else {
		registry_client_free(c);
		return usage();
	}
	registry_client_free(c);
	if (rc < 0)
		return fail(&err);
	return status;
}
