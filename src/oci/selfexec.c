/* selfexec.c - re-exec from a sealed memfd copy; see selfexec.h. */
#include "oci/selfexec.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/cleanup.h"

#define REQUIRED_SEALS (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE)

/* How much of the binary exec needs: up to the end of the last segment the
 * program headers name. Section headers and debug info (two thirds of a
 * debugoptimized build) are left out of the copy, and the copy's header says
 * it has no sections. Returns 0 (copy all) for anything but a sane ELF64. */
static off_t loadable_size(int fd, off_t file_size, Elf64_Ehdr *eh)
{
	if (pread(fd, eh, sizeof(*eh), 0) != (ssize_t)sizeof(*eh) ||
	    memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0 || eh->e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > 64)
		return 0;
	Elf64_Phdr ph[64];
	size_t len = (size_t)eh->e_phnum * sizeof(Elf64_Phdr);
	if (eh->e_phoff > (uint64_t)file_size || pread(fd, ph, len, (off_t)eh->e_phoff) != (ssize_t)len)
		return 0;
	uint64_t end = eh->e_phoff + len;
	for (size_t i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_offset + ph[i].p_filesz > end)
			end = ph[i].p_offset + ph[i].p_filesz;
	return end <= (uint64_t)file_size ? (off_t)end : 0;
}

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
	Elf64_Ehdr eh;
	off_t need = loadable_size(src, st.st_size, &eh);
	off_t left = need ? need : st.st_size;
	while (left > 0) {
		ssize_t n = sendfile(mfd, src, NULL, (size_t)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_errno(err, "copying the runtime binary into memory");
		left -= n;
	}
	if (need) {
		eh.e_shoff = 0;
		eh.e_shnum = 0;
		eh.e_shstrndx = SHN_UNDEF;
		if (pwrite(mfd, &eh, sizeof(eh), 0) != (ssize_t)sizeof(eh))
			return berth_error_errno(err, "copying the runtime binary into memory");
	}
	if (fcntl(mfd, F_ADD_SEALS, REQUIRED_SEALS) < 0)
		return berth_error_errno(err, "sealing the in-memory runtime binary");
	syscall(SYS_execveat, mfd, "", argv, envp, AT_EMPTY_PATH);
	return berth_error_errno(err, "re-executing the runtime from memory");
}
