/* fileio.c - placeholder */
