/* selfexec.c - re-exec from a sealed memfd copy; see selfexec.h. */
#include "oci/selfexec.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

bool selfexec_is_sealed(void)
{
	_cleanup_close_ int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	int seals = fcntl(fd, F_GET_SEALS);
	return seals >= 0 && (seals & REQUIRED_SEALS) == REQUIRED_SEALS;
}

int selfexec_ensure_sealed(char **argv, char **envp, berth_err *err)
{
	if (selfexec_is_sealed())
		return 0;
	_cleanup_close_ int src = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (src < 0)
		return berth_error_errno(err, "cannot open /proc/self/exe");
	struct stat st;
	if (fstat(src, &st) < 0)
		return berth_error_errno(err, "stat /proc/self/exe");
	_cleanup_close_ int mfd = memfd_create("berth-runtime", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (mfd < 0)
		return berth_error_errno(err, "memfd_create");
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_errno(err, "copying the runtime binary into memory");
		left -= n;
	}
	if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
		return berth_error_errno(err, "sealing the in-memory runtime binary");
	syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
	return berth_error_errno(err, "re-executing the runtime from memory");
}
