/* signals.c - placeholder */
