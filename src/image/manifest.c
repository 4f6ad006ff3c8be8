/* manifest.c - placeholder until its module lands. */
