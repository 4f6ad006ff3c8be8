/* store.c - placeholder */
#include <errno.h>
#include "image/store.h"
int image_store_open(const char *root, struct image_store **out, berth_err *err) { (void)root; (void)out; return berth_error(err, ENOSYS, "store"); }
void image_store_close(struct image_store *s) { (void)s; }
