/* rootfs.c - placeholder until written */
