/* mountopts.c - config.json mount "options" -> mount(2) flags, propagation, mount_setattr
 * attributes and the filesystem data string.
 *
 * The option names follow mount(8) and runc: per-mount flags ("ro", "nosuid"...), the
 * bind options, propagation, the recursive attributes of the OCI spec ("rro", "rnosuid"...,
 * applied with mount_setattr(AT_RECURSIVE)), "idmap"/"ridmap" and runc's "tmpcopyup".
 * Anything else is filesystem data ("size=64m", "mode=755", "newinstance"...), handed to
 * the filesystem as runc does; but a bind mount has no filesystem to hand it to, so there
 * an unknown option is a mistake ("rbnd") and is reported naming the option.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "common/cleanup.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "oci/rootfs.h"

struct flag_opt {
	const char *name;
	bool clear; /* the option removes the flag ("rw" clears MS_RDONLY) */
	unsigned long flag;
};

static const struct flag_opt flag_opts[] = {
	{ "acl", false, MS_POSIXACL },
	{ "async", true, MS_SYNCHRONOUS },
	{ "atime", true, MS_NOATIME },
	{ "bind", false, MS_BIND },
	{ "defaults", false, 0 },
	{ "dev", true, MS_NODEV },
	{ "diratime", true, MS_NODIRATIME },
	{ "dirsync", false, MS_DIRSYNC },
	{ "exec", true, MS_NOEXEC },
	{ "iversion", false, MS_I_VERSION },
	{ "lazytime", false, MS_LAZYTIME },
	{ "loud", true, MS_SILENT },
	{ "mand", false, MS_MANDLOCK },
	{ "noacl", true, MS_POSIXACL },
	{ "noatime", false, MS_NOATIME },
	{ "nodev", false, MS_NODEV },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "noexec", false, MS_NOEXEC },
	{ "noiversion", true, MS_I_VERSION },
	{ "nolazytime", true, MS_LAZYTIME },
	{ "nomand", true, MS_MANDLOCK },
	{ "norelatime", true, MS_RELATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "nosuid", false, MS_NOSUID },
	{ "nosymfollow", false, MS_NOSYMFOLLOW },
	{ "rbind", false, MS_BIND | MS_REC },
	{ "relatime", false, MS_RELATIME },
	{ "remount", false, MS_REMOUNT },
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "silent", false, MS_SILENT },
	{ "strictatime", false, MS_STRICTATIME },
	{ "suid", true, MS_NOSUID },
	{ "symfollow", true, MS_NOSYMFOLLOW },
	{ "sync", false, MS_SYNCHRONOUS },
};

/* mount_setattr(2) attributes applied to the whole tree. The access-time ones are an
 * enum inside MOUNT_ATTR__ATIME, not bits: changing it means clearing the whole field,
 * and "ratime"/"rnorelatime"/"rnostrictatime" (which only say what not to use) fall back
 * to the kernel default, relatime. */
static const struct flag_opt recattr_opts[] = {
	{ "rro", false, MOUNT_ATTR_RDONLY },
	{ "rrw", true, MOUNT_ATTR_RDONLY },
	{ "rnosuid", false, MOUNT_ATTR_NOSUID },
	{ "rsuid", true, MOUNT_ATTR_NOSUID },
	{ "rnodev", false, MOUNT_ATTR_NODEV },
	{ "rdev", true, MOUNT_ATTR_NODEV },
	{ "rnoexec", false, MOUNT_ATTR_NOEXEC },
	{ "rexec", true, MOUNT_ATTR_NOEXEC },
	{ "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
	{ "rdiratime", true, MOUNT_ATTR_NODIRATIME },
	{ "rnoatime", false, MOUNT_ATTR_NOATIME },
	{ "ratime", true, MOUNT_ATTR__ATIME },
	{ "rrelatime", false, MOUNT_ATTR_RELATIME },
	{ "rnorelatime", true, MOUNT_ATTR__ATIME },
	{ "rstrictatime", false, MOUNT_ATTR_STRICTATIME },
	{ "rnostrictatime", true, MOUNT_ATTR__ATIME },
	{ "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
	{ "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

static const struct {
	const char *name;
	unsigned long flags;
} propagation_opts[] = {
	{ "private", MS_PRIVATE },	    { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },	    { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },		    { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

#define ATIME_FLAGS (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)

bool mount_propagation_parse(const char *name, unsigned long *out)
{
	if (!*name) {
		*out = 0;
		return true;
	}
	for (size_t i = 0; i < ARRAY_SIZE(propagation_opts); i++)
		if (!strcmp(name, propagation_opts[i].name)) {
			*out = propagation_opts[i].flags;
			return true;
		}
	return false;
}

static const struct flag_opt *find_opt(const struct flag_opt *table, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(table[i].name, name))
			return &table[i];
	return NULL;
}

/* Apply one known option to out; false when the name is not one of ours. */
static bool apply_option(const char *opt, struct mount_opts *out)
{
	const struct flag_opt *f = find_opt(flag_opts, ARRAY_SIZE(flag_opts), opt);
	if (f) {
		if (f->flag & MS_BIND)
			out->bind = true;
		if (f->clear) {
			out->flags &= ~f->flag;
			out->clear |= f->flag;
		} else {
			/* The access-time modes exclude one another: the last one wins. */
			if (f->flag & ATIME_FLAGS) {
				out->flags &= ~ATIME_FLAGS;
				out->clear &= ~ATIME_FLAGS;
			}
			out->flags |= f->flag;
			out->clear &= ~f->flag;
		}
		return true;
	}
	unsigned long prop;
	if (*opt && mount_propagation_parse(opt, &prop)) {
		out->propagation = prop;
		return true;
	}
	f = find_opt(recattr_opts, ARRAY_SIZE(recattr_opts), opt);
	if (f) {
		if (f->clear) {
			out->recattr_clr |= f->flag;
			out->recattr_set &= ~f->flag;
			if (f->flag == MOUNT_ATTR__ATIME)
				out->recattr_set &= ~MOUNT_ATTR__ATIME;
		} else {
			if ((f->flag & MOUNT_ATTR__ATIME) == f->flag) {
				/* The kernel wants the whole enum cleared to set one value;
				 * rrelatime's value is 0, so the clear alone selects it. */
				out->recattr_set &= ~MOUNT_ATTR__ATIME;
				out->recattr_clr |= MOUNT_ATTR__ATIME;
			} else {
				out->recattr_clr &= ~f->flag;
			}
			out->recattr_set |= f->flag;
		}
		return true;
	}
	if (!strcmp(opt, "idmap") || !strcmp(opt, "ridmap")) {
		out->idmap = true;
		out->idmap_recursive = opt[0] == 'r';
		return true;
	}
	if (!strcmp(opt, "tmpcopyup")) {
		out->tmpcopyup = true;
		return true;
	}
	return false;
}

int mount_options_parse_typed(json_t *options, const char *field, const char *type,
			      struct mount_opts *out, berth_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!options || json_is_null(options))
		return 0;
	if (!json_is_array(options))
		return berth_error(err, EINVAL, "%s: must be an array of strings", field);
	_cleanup_strbuf_ struct strbuf data = STRBUF_INIT;
	ssize_t first_unknown = -1;
	size_t i;
	json_t *v;
	json_array_foreach (options, i, v) {
		const char *opt = json_string_value(v);
		if (!opt)
			return berth_error(err, EINVAL, "%s[%zu]: must be a string", field, i);
		/* An empty entry means nothing; runc would pass an empty data item. */
		if (!*opt)
			continue;
		if (apply_option(opt, out))
			continue;
		if (first_unknown < 0)
			first_unknown = (ssize_t)i;
		if (data.len)
			strbuf_addch(&data, ',');
		strbuf_addstr(&data, opt);
	}
	bool bind = out->bind || (type && !strcmp(type, "bind"));
	if (bind && first_unknown >= 0) {
		const char *opt = json_string_value(json_array_get(options, (size_t)first_unknown));
		int r = berth_error(err, EINVAL,
				    "%s[%zd]: unknown option \"%s\" (a bind mount takes no "
				    "filesystem options)",
				    field, first_unknown, opt);
		mount_opts_release(out);
		return r;
	}
	if (data.len)
		out->data = strbuf_detach(&data, NULL);
	return 0;
}

int mount_options_parse(json_t *options, const char *field, struct mount_opts *out, berth_err *err)
{
	return mount_options_parse_typed(options, field, NULL, out, err);
}

void mount_opts_release(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}
