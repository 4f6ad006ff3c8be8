/* runtime.h - the berth-runtime commands (one file each, or a family per file).
 *
 * Each command gets argc/argv starting at its own name, with the global
 * options already applied, and returns the process exit code. Errors are
 * printed by rt_fail(): one line on stderr and an "error" record in --log.
 *
 *   struct rt_globals   --root --log --log-format --debug --systemd-cgroup
 *   rt_fail()           report an error, return 1
 *   rt_need_id()        the single container id operand, or a usage error
 */
#ifndef BERTH_CLI_RUNTIME_H
#define BERTH_CLI_RUNTIME_H

#include <stdbool.h>

#include "common/error.h"

struct rt_globals {
	const char *root;
	bool systemd_cgroup;
	bool debug;
	char **argv0; /* the full argv, for re-exec */
	char **envp;
};

extern struct rt_globals rt;

int rt_fail(berth_err *err);
int rt_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
const char *rt_need_id(const char *cmd, int argc, char **argv, int optind_);

int cmd_create(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_delete(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_features(int argc, char **argv);
int cmd_spec(int argc, char **argv);

#endif
