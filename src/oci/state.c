/* state.c - placeholder until written */
