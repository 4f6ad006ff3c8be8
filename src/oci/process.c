/* process.c - placeholder until written */
