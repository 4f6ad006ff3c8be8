/* init.c - placeholder until written */
