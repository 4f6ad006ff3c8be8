/* unpack.c - placeholder until its module lands. */
