/* pull.c - placeholder until its module lands. */
