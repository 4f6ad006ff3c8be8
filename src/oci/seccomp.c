/* seccomp.c - placeholder until written */
