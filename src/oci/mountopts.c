/* mountopts.c - placeholder until written */
