/* strbuf.c - placeholder */
