/* caps.c - placeholder until written */
