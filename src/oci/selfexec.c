/* selfexec.c - placeholder until written */
