/* import.c - placeholder until its module lands. */
