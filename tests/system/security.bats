#!/usr/bin/env bats
# security.bats - regressions for the runtime CVEs that matter to a
# runc-compatible runtime, each checked from inside the container and on the
# host afterwards:
#   symlinked mount destinations (CVE-2021-30465 family),
#   leaked fds and cwd (CVE-2024-21626),
#   overwriting the runtime binary through /proc/PID/exe (CVE-2019-5736),
#   unmasking maskedPaths / readonlyPaths.

load helpers
load feature_helpers
bats_require_minimum_version 1.5.0

# runtime_bin: the real path of the runtime binary on the host.
runtime_bin() {
	readlink -f "$(command -v "$RUNTIME")"
}

wait_status() {
	local i
	for i in $(seq 100); do
		[ "$(rt state "$1" 2>/dev/null | jq -r .status)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# ---- symlinked mount destinations -------------------------------------------

@test "mount destination through an absolute symlink lands inside the rootfs" {
	local name=bt-landed-$$-$BATS_TEST_NUMBER
	mkdir "$TEST_TMP/src"
	echo marker >"$TEST_TMP/src/m"
	new_bundle
	ln -s "/tmp/$name" "$BUNDLE/rootfs/etc/evil"
	cfg '.mounts += [{destination: "/etc/evil", type: "bind", source: $s, options: ["bind", "ro"]}]' --arg s "$TEST_TMP/src"
	set_args cat "/tmp/$name/m"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = marker ]
	[ ! -e "/tmp/$name" ]
	[ -d "$BUNDLE/rootfs/tmp/$name" ]
}

@test "mount destination through a relative symlink full of .. stays inside the rootfs" {
	local name=bt-landed-$$-$BATS_TEST_NUMBER
	new_bundle
	ln -s "../../../../../../../../../../tmp/$name" "$BUNDLE/rootfs/etc/evil"
	cfg '.mounts += [{destination: "/etc/evil", type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]'
	set_args sh -c "grep -c ' /tmp/$name ' /proc/self/mountinfo"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	[ ! -e "/tmp/$name" ]
	! grep -q " /tmp/$name " /proc/self/mountinfo
}

@test "a symlink to / as an intermediate component of a destination resolves in the rootfs" {
	local name=bt-landed-$$-$BATS_TEST_NUMBER
	new_bundle
	ln -s / "$BUNDLE/rootfs/etc/up"
	cfg '.mounts += [{destination: ("/etc/up/tmp/" + $n), type: "tmpfs", source: "tmpfs", options: ["size=1m"]}]' --arg n "$name"
	set_args sh -c "grep -c ' /tmp/$name ' /proc/self/mountinfo"
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = 1 ]
	[ ! -e "/tmp/$name" ]
}

@test "a rootfs /proc that is a symlink out of the rootfs is refused or contained" {
	local name=bt-fakeproc-$$-$BATS_TEST_NUMBER
	new_bundle
	rmdir "$BUNDLE/rootfs/proc"
	ln -s "/tmp/$name" "$BUNDLE/rootfs/proc"
	set_args true
	local before
	before=$(grep -c . /proc/self/mountinfo)
	run rt run -b "$BUNDLE" "$(cid)"
	[ ! -e "/tmp/$name" ]
	[ "$(grep -c . /proc/self/mountinfo)" = "$before" ]
}

# ---- CVE-2024-21626: leaked fds and cwd ------------------------------------

# fds_of_init ID: the fds pid 1 holds, seen from inside through exec.
fds_of_init() {
	rt exec "$1" ls /proc/1/fd | sort -n | tr '\n' ' '
}

@test "the container's init holds exactly fds 0, 1 and 2" {
	new_bundle
	set_args sleep 30
	local id
	id=$(cid)
	rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait_status "$id" running
	run fds_of_init "$id"
	[ "$output" = "0 1 2 " ]
	# The host's view agrees.
	run ls "/proc/$(rt state "$id" | jq -r .pid)/fd"
	[ "$(echo $output)" = "0 1 2" ]
}

@test "--preserve-fds N passes exactly N more fds" {
	new_bundle
	echo three >"$TEST_TMP/f3"
	echo four >"$TEST_TMP/f4"
	set_args sleep 30
	local id
	id=$(cid)
	rt run -d --preserve-fds 2 -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1 3<"$TEST_TMP/f3" 4<"$TEST_TMP/f4" 5<"$TEST_TMP/f3"
	wait_status "$id" running
	run fds_of_init "$id"
	[ "$output" = "0 1 2 3 4 " ]
	run rt exec "$id" cat /proc/1/fd/3 /proc/1/fd/4
	[ "${lines[0]}" = three ]
	[ "${lines[1]}" = four ]
}

@test "an exec'd process holds exactly fds 0, 1 and 2" {
	new_bundle
	set_args sleep 60
	local id
	id=$(cid)
	rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait_status "$id" running
	# ls's own fds: 0, 1, 2 and the directory it reads (3).
	run rt exec "$id" ls /proc/self/fd
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2 3" ]
}

@test "process.cwd /proc/self/fd/N never gives a directory outside the rootfs" {
	touch "$TEST_TMP/host-marker"
	new_bundle
	local n
	for n in 3 4 5 6 7 8 9 10 11 12; do
		cfg '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		set_args sh -c "readlink /proc/self/cwd; for u in . .. ../.. ../../.. ../../../.. ../../../../.. ../../../../../..; do [ -e \$u$TEST_TMP/host-marker ] && echo ESCAPED; done; exit 0"
		run rt run -b "$BUNDLE" "$(cid)"
		# Refusing is fine; running with a cwd outside the root is not.
		[[ "$output" != *ESCAPED* ]]
		[[ "$output" != *"(unreachable)"* ]]
	done
}

@test "exec --cwd /proc/self/fd/N never gives a directory outside the rootfs" {
	touch "$TEST_TMP/host-marker"
	new_bundle
	set_args sleep 60
	local id
	id=$(cid)
	rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait_status "$id" running
	local n
	for n in 3 4 5 6 7 8 9 10; do
		run rt exec --cwd "/proc/self/fd/$n" "$id" sh -c "readlink /proc/self/cwd; for u in . .. ../.. ../../.. ../../../.. ../../../../.. ../../../../../..; do [ -e \$u$TEST_TMP/host-marker ] && echo ESCAPED; done; exit 0"
		[[ "$output" != *ESCAPED* ]]
		[[ "$output" != *"(unreachable)"* ]]
	done
}

@test "/proc/self/cwd of the container process points inside the container" {
	new_bundle
	cfg '.process.cwd = "/tmp"'
	set_args sh -c 'readlink /proc/1/cwd; readlink /proc/1/root'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = /tmp ]
	[ "${lines[1]}" = / ]
}

# ---- CVE-2019-5736: /proc/PID/exe of the runtime ---------------------------

# The probe: for each process visible in the container that is not the
# container's own busybox, try to open /proc/PID/exe and then reopen it for
# writing through /proc/self/fd (without truncating: <> only). Lines:
# "seen PID EXE", "opened PID EXE", "WRITABLE PID EXE".
probe_script() {
	cat <<-'EOF'
		probe() {
			pid=$1
			exe=$(readlink /proc/$pid/exe 2>/dev/null) || exe="?"
			[ "$exe" = /bin/busybox ] && return 0
			echo "seen $pid $exe"
			( exec 4</proc/$pid/exe || exit 1
			  echo "opened $pid $(readlink /proc/self/fd/4)"
			  i=0
			  while [ $i -lt 30 ]; do
				( exec 5<>/proc/self/fd/4 ) 2>/dev/null && { echo "WRITABLE $pid $(readlink /proc/self/fd/4)"; exit 0; }
				sleep 0.1; i=$((i + 1))
			  done ) 2>/dev/null
		}
	EOF
}

@test "CVE-2019-5736: a created container's waiting init cannot be reopened for writing, before or after it execs" {
	local bin sum
	bin=$(runtime_bin)
	sum=$(sha256sum "$bin")
	# Container A is created, not started: its init (the runtime binary)
	# waits as pid 1 of A's pid namespace.
	new_bundle
	set_args sleep 30
	local a
	a=$(cid)
	rt create -b "$BUNDLE" "$a" </dev/null >/dev/null 2>&1
	local apid
	apid=$(rt state "$a" | jq -r .pid)
	# Container B joins A's pid namespace, opens /proc/1/exe, and once A has
	# started (the runtime binary no longer runs there) tries to reopen it
	# for writing, as the exploit does.
	mkdir "$TEST_TMP/out"
	new_bundle
	cfg '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)
		| .mounts += [{destination: "/out", type: "bind", source: $s, options: ["rbind", "rw"]}]' \
		--arg p "/proc/$apid/ns/pid" --arg s "$TEST_TMP/out"
	set_args sh -c '
		echo "exe $(readlink /proc/1/exe)"
		if ( exec 4</proc/1/exe ) 2>/dev/null; then
			exec 4</proc/1/exe
			echo "opened $(readlink /proc/self/fd/4)"
			( exec 5<>/proc/self/fd/4 ) 2>/dev/null && echo "WRITABLE while running"
			touch /out/ready
			n=0; while [ ! -e /out/go ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
			n=0; while [ $n -lt 20 ]; do
				( exec 5<>/proc/self/fd/4 ) 2>/dev/null && { echo "WRITABLE after exec"; break; }
				sleep 0.1; n=$((n + 1))
			done
		else
			echo "open refused"
			touch /out/ready
		fi
		echo done'
	local b
	b=$(cid)
	rt run -b "$BUNDLE" "$b" >"$TEST_TMP/out/log" 2>&1 &
	local bpid=$!
	local i
	for i in $(seq 100); do [ -e "$TEST_TMP/out/ready" ] && break; sleep 0.1; done
	rt start "$a"
	touch "$TEST_TMP/out/go"
	wait "$bpid" || true
	run cat "$TEST_TMP/out/log"
	[[ "$output" == *done* ]]
	[[ "$output" != *WRITABLE* ]]
	[ "$(sha256sum "$bin")" = "$sum" ]
	rt delete --force "$a"
}

@test "CVE-2019-5736: runtime processes that exec shows the container cannot be reopened for writing" {
	local bin sum
	bin=$(runtime_bin)
	sum=$(sha256sum "$bin")
	new_bundle
	mkdir "$TEST_TMP/out"
	cfg '.mounts += [{destination: "/out", type: "bind", source: $s, options: ["rbind", "rw"]}]' --arg s "$TEST_TMP/out"
	# The watcher probes every new pid for 15 s at most, then exits.
	set_args sh -c "$(probe_script)"'
		end=$(( $(date +%s) + 15 ))
		seen=" 1 $$ "
		while [ $(date +%s) -lt $end ] && [ ! -e /out/stop ]; do
			for p in /proc/[0-9]*; do
				pid=${p#/proc/}
				case "$seen" in *" $pid "*) continue ;; esac
				seen="$seen$pid "
				probe $pid >>/out/log &
			done
		done
		wait; echo finished >>/out/log'
	local id
	id=$(cid)
	rt run -d -b "$BUNDLE" "$id" </dev/null >/dev/null 2>&1
	wait_status "$id" running
	local i
	for i in $(seq 20); do
		timeout 10 "$RUNTIME" --root "$STATE_ROOT" exec "$id" true || true
	done
	touch "$TEST_TMP/out/stop"
	for i in $(seq 200); do
		grep -q finished "$TEST_TMP/out/log" 2>/dev/null && break
		sleep 0.1
	done
	run cat "$TEST_TMP/out/log"
	[[ "$output" == *finished* ]]
	[[ "$output" != *WRITABLE* ]]
	if grep -q '^opened ' <<<"$output"; then
		! grep -q "^opened [0-9]* $bin\$" <<<"$output"
	fi
	[ "$(sha256sum "$bin")" = "$sum" ]
}

# ---- masked and read-only paths stay so ------------------------------------

@test "maskedPaths cannot be unmasked: umount and bind over /proc/kcore fail" {
	new_bundle
	set_args sh -c '{ umount /proc/kcore; } 2>&1; echo umount=$?; { umount -l /proc/acpi; } 2>&1; echo umount2=$?;
		{ mount --bind /proc/self/status /proc/kcore; } 2>&1; echo bind=$?; echo "kcore:$(head -c 16 /proc/kcore | wc -c)"'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" == *umount=1* ]] || [[ "$output" =~ umount=[1-9] ]]
	[[ "$output" =~ umount2=[1-9] ]]
	[[ "$output" =~ bind=[1-9] ]]
	[[ "$output" == *kcore:0* ]]
}

@test "readonlyPaths cannot be remounted read-write" {
	new_bundle
	set_args sh -c '{ mount -o remount,rw /proc/sys; } 2>&1; echo remount=$?; { umount /proc/sys; } 2>&1; echo umount=$?;
		{ echo x >/proc/sys/kernel/hostname; } 2>&1; echo write=$?'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[[ "$output" =~ remount=[1-9] ]]
	[[ "$output" =~ umount=[1-9] ]]
	[[ "$output" =~ write=[1-9] ]]
}

@test "the container cannot write the host's runtime binary through /proc/1/exe of its own init" {
	# After exec, /proc/1/exe is the container's program, never the runtime.
	new_bundle
	set_args sh -c 'readlink /proc/1/exe'
	run rt run -b "$BUNDLE" "$(cid)"
	[ "$status" -eq 0 ]
	[ "$output" = /bin/busybox ]
}
