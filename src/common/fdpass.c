/* fdpass.c - placeholder */
