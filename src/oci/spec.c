/* spec.c - placeholder until written */
