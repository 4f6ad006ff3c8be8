/* digest.c - placeholder until its module lands. */
