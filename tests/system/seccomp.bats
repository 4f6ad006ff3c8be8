#!/usr/bin/env bats
# seccomp.bats - linux.seccomp: actions, errnoRet, argument conditions and a
# Docker-size allow-list profile, each checked by a syscall the container
# makes and the error it sees.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

ARCHES='["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]'

# seccomp_rules DEFAULT_ACTION RULES: set linux.seccomp; RULES is a jq
# expression for the syscalls array.
seccomp_rules() {
	local rules
	rules=$(jq -nc "$2") || return 1
	cfg '.linux.seccomp = {defaultAction: $d, architectures: $a, syscalls: $r}' \
		--arg d "$1" --argjson a "$ARCHES" --argjson r "$rules"
}

MKDIR='["mkdir", "mkdirat"]'

@test "SCMP_ACT_ERRNO without errnoRet: mkdir fails with EPERM, the rest works" {
	new_bundle
	cfg '.root.readonly = false'
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_ERRNO\"}]"
	set_args sh -c 'mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && ls /tmp'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"Operation not permitted"* ]]
	[ "${lines[1]}" = rc=1 ]
	[ "${lines[2]}" = f ]
}

@test "SCMP_ACT_ERRNO with errnoRet 38: Function not implemented" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_ERRNO\", errnoRet: 38}]"
	set_args sh -c 'mkdir /tmp/d 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"Function not implemented"* ]]
	[ "${lines[1]}" = rc=1 ]
}

@test "defaultErrnoRet applies to the default action" {
	new_bundle
	cfg '.linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW", architectures: $a, syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13}]}' --argjson a "$ARCHES"
	set_args sh -c 'mkdir /tmp/d 2>&1'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "$output" == *"Permission denied"* ]]
}

@test "argument condition SCMP_CMP_EQ: kill with SIGUSR1 blocked, other signals pass" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW '[{names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 38, args: [{index: 1, value: 10, op: "SCMP_CMP_EQ"}]}]'
	set_args sh -c 'trap "" USR1 USR2; kill -0 $$ && echo sig0-ok; kill -USR2 $$ && echo usr2-ok; kill -USR1 $$ 2>&1; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = sig0-ok ]
	[ "${lines[1]}" = usr2-ok ]
	[[ "${lines[2]}" == *"Function not implemented"* ]]
	[ "${lines[3]}" = rc=1 ]
}

@test "argument condition SCMP_CMP_MASKED_EQ: chmod adding setuid is blocked" {
	new_bundle
	cfg '.root.readonly = false'
	# mode & 04000 == 04000; chmod(path, mode) has mode at index 1,
	# fchmodat(dirfd, path, mode) at index 2.
	seccomp_rules SCMP_ACT_ALLOW '[
		{names: ["chmod"], action: "SCMP_ACT_ERRNO", args: [{index: 1, value: 2048, valueTwo: 2048, op: "SCMP_CMP_MASKED_EQ"}]},
		{names: ["fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO", args: [{index: 2, value: 2048, valueTwo: 2048, op: "SCMP_CMP_MASKED_EQ"}]}]'
	set_args sh -c 'touch /tmp/f; chmod 755 /tmp/f && echo plain-ok; chmod 4755 /tmp/f 2>&1; stat -c %a /tmp/f'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "${lines[0]}" = plain-ok ]
	[[ "${lines[1]}" == *"Operation not permitted"* ]]
	[ "${lines[2]}" = 755 ]
}

@test "SCMP_ACT_KILL: the calling process dies of SIGSYS" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_KILL\"}]"
	set_args sh -c 'mkdir /tmp/d; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]}" = rc=159 ] # 128 + SIGSYS
}

@test "SCMP_ACT_TRAP: SIGSYS is delivered" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_TRAP\"}]"
	set_args sh -c 'mkdir /tmp/d; echo rc=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[${#lines[@]} - 1]}" = rc=159 ]
}

@test "SCMP_ACT_LOG: the syscall is allowed" {
	new_bundle
	cfg '.root.readonly = false'
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_LOG\"}]"
	set_args sh -c 'mkdir /tmp/d && echo made'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = made ]
}

@test "the filter also holds for a process started with exec" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_ERRNO\", errnoRet: 38}]"
	set_args sleep 60
	local id
	id=$(cid)
	rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	run rt exec "$id" sh -c 'mkdir /tmp/x 2>&1'
	[ "$status" -ne 0 ]
	[[ "$output" == *"Function not implemented"* ]]
}

@test "filter installed for a non-root user without noNewPrivileges" {
	# The runtime must load the filter while it still holds CAP_SYS_ADMIN.
	new_bundle
	cfg '.process.user = {uid: 1000, gid: 1000} | .process.noNewPrivileges = false'
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_ERRNO\", errnoRet: 38}]"
	set_args sh -c 'mkdir /tmp/d 2>&1; grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status'
	run rt run -b "$BUNDLE" "$(cid)"
	[[ "${lines[0]}" == *"Function not implemented"* ]]
	[[ "$output" == *"NoNewPrivs:	0"* ]]
	[[ "$output" == *"Seccomp:	2"* ]]
}

@test "Seccomp: 2 in /proc/self/status with a profile, 0 without" {
	new_bundle
	set_args grep '^Seccomp:' /proc/self/status
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$output" = "Seccomp:	0" ]
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_ERRNO\"}]"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$output" = "Seccomp:	2" ]
}

@test "an unknown action is refused" {
	new_bundle
	seccomp_rules SCMP_ACT_ALLOW "[{names: $MKDIR, action: \"SCMP_ACT_BOGUS\"}]"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -ne 0 ]
}

@test "defaultAction ERRNO with a Docker-size allow list: ordinary work runs, the rest is refused" {
	local prof=$SRCROOT/bench/seccomp-profile.json
	[ -f "$prof" ] || skip "no bench/seccomp-profile.json"
	new_bundle
	cfg '.root.readonly = false'
	# ENOSYS as the default errno tells the filter's refusal apart from a
	# missing capability (EPERM).
	cfg '.linux.seccomp = ($p[0] | .defaultErrnoRet = 38)' --slurpfile p "$prof"
	set_args sh -c 'mkdir /tmp/d && echo hi >/tmp/d/f && cat /tmp/d/f && ls / | grep -c bin && sleep 0.1 && echo ok; unshare -n true 2>&1; echo unshare=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = hi ]
	[ "${lines[2]}" = ok ]
	[[ "$output" == *"Function not implemented"* ]]
	[[ "$output" == *unshare=1* ]]
}
