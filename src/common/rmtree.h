/* rmtree.h - remove a directory tree without following symlinks.
 *
 * Every step is relative to an open directory fd (unlinkat, openat with
 * O_NOFOLLOW|O_DIRECTORY), so a symlink inside the tree is removed, never
 * followed, and a tree being removed cannot redirect the removal elsewhere.
 * Mount points inside the tree are not crossed: the removal fails on them.
 *
 *   rm_rf_at()   remove name (file, symlink or directory tree) under dirfd;
 *                a missing name is success
 */
#ifndef BERTH_RMTREE_H
#define BERTH_RMTREE_H

#include "error.h"

int rm_rf_at(int dirfd, const char *name, berth_err *err);

#endif
