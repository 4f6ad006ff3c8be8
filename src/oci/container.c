/* container.c - placeholder until written */
