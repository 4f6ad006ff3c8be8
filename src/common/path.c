/* path.c - placeholder */
