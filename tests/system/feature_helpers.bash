# feature_helpers.bash - small additions to helpers.bash for the config.json
# feature tests (process, namespaces, mounts, resources, seccomp, hooks,
# security, userns). Load after helpers.bash.
#
#   set_args CMD...        as in helpers.bash, but safe for arguments that look
#                          like jq options (jq 1.6 takes "sh -c" 's -c itself)
#   jarr ARGS...           print ARGS as a compact JSON array of strings
#   hexcaps CAP...         the /proc/PID/status hex mask for these capabilities
#   skip_unless_file PATH  skip the test when PATH does not exist on the host
#   is_runc                true when the runtime under test is runc (peer check)

jarr() {
	local a
	for a in "$@"; do
		jq -n --arg a "$a" '$a'
	done | jq -cs .
}

set_args() {
	cfg '.process.args = $a' --argjson a "$(jarr "$@")"
}

# Capability numbers from linux/capability.h.
declare -gA CAPNUM=(
	[CAP_CHOWN]=0 [CAP_DAC_OVERRIDE]=1 [CAP_DAC_READ_SEARCH]=2 [CAP_FOWNER]=3
	[CAP_FSETID]=4 [CAP_KILL]=5 [CAP_SETGID]=6 [CAP_SETUID]=7 [CAP_SETPCAP]=8
	[CAP_LINUX_IMMUTABLE]=9 [CAP_NET_BIND_SERVICE]=10 [CAP_NET_BROADCAST]=11
	[CAP_NET_ADMIN]=12 [CAP_NET_RAW]=13 [CAP_IPC_LOCK]=14 [CAP_IPC_OWNER]=15
	[CAP_SYS_MODULE]=16 [CAP_SYS_RAWIO]=17 [CAP_SYS_CHROOT]=18 [CAP_SYS_PTRACE]=19
	[CAP_SYS_PACCT]=20 [CAP_SYS_ADMIN]=21 [CAP_SYS_BOOT]=22 [CAP_SYS_NICE]=23
	[CAP_SYS_RESOURCE]=24 [CAP_SYS_TIME]=25 [CAP_SYS_TTY_CONFIG]=26 [CAP_MKNOD]=27
	[CAP_LEASE]=28 [CAP_AUDIT_WRITE]=29 [CAP_AUDIT_CONTROL]=30 [CAP_SETFCAP]=31
	[CAP_MAC_OVERRIDE]=32 [CAP_MAC_ADMIN]=33 [CAP_SYSLOG]=34 [CAP_WAKE_ALARM]=35
	[CAP_BLOCK_SUSPEND]=36 [CAP_AUDIT_READ]=37 [CAP_PERFMON]=38 [CAP_BPF]=39
	[CAP_CHECKPOINT_RESTORE]=40
)

hexcaps() {
	local m=0 c
	for c in "$@"; do
		m=$((m | (1 << ${CAPNUM[$c]})))
	done
	printf '%016x\n' "$m"
}

skip_unless_file() {
	[ -e "$1" ] || skip "host has no $1"
}

is_runc() {
	case $(basename "$RUNTIME") in runc*) return 0 ;; esac
	return 1
}
