/* console.c - placeholder until written */
