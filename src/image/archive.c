/* archive.c - placeholder until its module lands. */
