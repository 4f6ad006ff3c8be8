/* registry.c - placeholder until its module lands. */
