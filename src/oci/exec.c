/* exec.c - placeholder */
