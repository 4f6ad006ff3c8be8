/* db.c - placeholder until its module lands. */
