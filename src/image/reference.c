/* reference.c - placeholder until its module lands. */
