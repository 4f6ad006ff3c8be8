#!/bin/bash
# start-dockerd.sh - a private dockerd (Debian's docker.io) for interop tests.
#
# Everything lives under one directory: its own containerd (config, root,
# state, sockets), dockerd's --data-root, --exec-root, pidfile and API socket.
# It never touches the host's networking: no bridge, no iptables (a dockerd
# with iptables on sets the host's FORWARD policy to DROP). Images come from a
# local tar, never from a registry: berth-test/busybox is made with
# `docker import` of a busybox-static rootfs.
#
# Source it and call the functions, or run it:
#   start-dockerd.sh start DIR    # prints DOCKER_HOST=... on success
#   start-dockerd.sh stop DIR
#
#   dockerd_start DIR        start containerd + dockerd, wait for the API;
#                            exports DOCKER_HOST, DOCKER_CONFIG and DOCKER
#                            (Debian's client, /usr/bin/docker: a newer one may
#                            be first on the PATH)
#   dockerd_stop DIR         stop both by pid, unmount and remove DIR
#   dockerd_import_busybox   make the image berth-test/busybox
#
# The runtime "berth" is $BERTH_RUNTIME (default: the build's berth-runtime);
# set BERTH_RUNTIME=/usr/sbin/runc to check the tests themselves against runc.
#
# DOCKERD_NETWORK (opt-in, default "none"): "bridge" starts dockerd with its
# own networking defaults instead, docker0 and its iptables rules (FORWARD
# policy DROP, NAT, ip_forward on), for benchmarks of bridge networking. Those
# change the firewall of the network namespace dockerd runs in, so
# dockerd_start refuses "bridge" unless it runs in a namespace of its own
# (_dockerd_own_netns: not the initial one, not pid 1's, no default route):
# call it from inside a namespace made for it (bench/net.sh runs in one).

DOCKER=${DOCKER:-/usr/bin/docker}
DOCKERD=${DOCKERD:-/usr/sbin/dockerd}
CONTAINERD=${CONTAINERD:-/usr/bin/containerd}

_dockerd_wait_socket() {
	local sock=$1 pid=$2 what=$3 i
	for i in $(seq 1 300); do
		[ -S "$sock" ] && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "start-dockerd: $what exited during startup" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "start-dockerd: $what did not create $sock in 30 s" >&2
	return 1
}

# True only in a network namespace that is not the host's: not the initial
# one (its inode is fixed, PROC_NET_INIT_INO), not pid 1's (which may not be
# readable: then that test is skipped), and without a default route.
_dockerd_own_netns() {
	local self init
	self=$(readlink /proc/self/ns/net) || return 1
	[ -n "$self" ] && [ "$self" != "net:[4026531833]" ] || return 1
	init=$(readlink /proc/1/ns/net 2>/dev/null) || init=
	[ "$self" != "$init" ] || return 1
	[ -z "$(ip route show default 2>/dev/null)" ] && [ -z "$(ip -6 route show default 2>/dev/null)" ]
}

dockerd_start() {
	local dir=$1
	local runtime=${BERTH_RUNTIME:-berth-runtime}
	if [ -z "$dir" ]; then
		echo "start-dockerd: no directory given" >&2
		return 1
	fi
	runtime=$(command -v "$runtime") || {
		echo "start-dockerd: runtime '${BERTH_RUNTIME:-berth-runtime}' not found" >&2
		return 1
	}
	local x
	for x in "$DOCKER" "$DOCKERD" "$CONTAINERD"; do
		[ -x "$x" ] || { echo "start-dockerd: $x missing (apt-get install docker.io)" >&2; return 1; }
	done
	local netopts=(--bridge=none --iptables=false --ip6tables=false --ip-masq=false)
	case ${DOCKERD_NETWORK:-none} in
	none) ;;
	bridge)
		_dockerd_own_netns || {
			echo "start-dockerd: DOCKERD_NETWORK=bridge only inside a network namespace of its own" >&2
			return 1
		}
		netopts=()
		;;
	*)
		echo "start-dockerd: DOCKERD_NETWORK must be none or bridge, not '$DOCKERD_NETWORK'" >&2
		return 1
		;;
	esac

	mkdir -p "$dir"/{containerd/root,containerd/state,containerd/opt,data,exec,client}
	dir=$(cd "$dir" && pwd)

	# unix socket paths are limited to 107 bytes; containerd's shims put
	# their own under /run/containerd/s/<hash of address+ns+id>, no clash.
	cat >"$dir/containerd/config.toml" <<-EOF
		version = 2
		root = "$dir/containerd/root"
		state = "$dir/containerd/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri"]
		[grpc]
		  address = "$dir/containerd.sock"
		[ttrpc]
		  address = "$dir/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
		[plugins."io.containerd.internal.v1.opt"]
		  path = "$dir/containerd/opt"
	EOF
	"$CONTAINERD" --config "$dir/containerd/config.toml" \
		</dev/null >"$dir/containerd.log" 2>&1 3>&- &
	echo $! >"$dir/containerd.pid"
	_dockerd_wait_socket "$dir/containerd.sock" "$(cat "$dir/containerd.pid")" containerd || {
		tail -n 20 "$dir/containerd.log" >&2
		dockerd_stop "$dir"
		return 1
	}

	# An empty daemon.json: the host's /etc/docker/daemon.json must not apply.
	echo '{}' >"$dir/daemon.json"
	local driver=${DOCKERD_STORAGE_DRIVER:-overlay2}
	"$DOCKERD" \
		--config-file "$dir/daemon.json" \
		--data-root "$dir/data" \
		--exec-root "$dir/exec" \
		--pidfile "$dir/dockerd.pid" \
		-H "unix://$dir/docker.sock" \
		--containerd "$dir/containerd.sock" \
		--containerd-namespace berth-test \
		--containerd-plugins-namespace berth-test-plugins \
		--storage-driver "$driver" \
		"${netopts[@]}" \
		--userland-proxy=false \
		--add-runtime "berth=$runtime" \
		--log-level "${DOCKERD_LOG_LEVEL:-info}" \
		</dev/null >"$dir/dockerd.log" 2>&1 3>&- &
	local dpid=$!
	echo "$dpid" >"$dir/dockerd.bgpid"
	_dockerd_wait_socket "$dir/docker.sock" "$dpid" dockerd || {
		tail -n 20 "$dir/dockerd.log" >&2
		dockerd_stop "$dir"
		return 1
	}
	export DOCKER_HOST="unix://$dir/docker.sock"
	export DOCKER_CONFIG="$dir/client"
	export DOCKER
	local i
	for i in $(seq 1 100); do
		"$DOCKER" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "start-dockerd: dockerd API did not answer in 10 s" >&2
	tail -n 20 "$dir/dockerd.log" >&2
	dockerd_stop "$dir"
	return 1
}

# _dockerd_kill PIDFILE NAME: SIGTERM, wait up to 20 s, then SIGKILL.
_dockerd_kill() {
	local pidfile=$1 name=$2 pid i
	[ -s "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "start-dockerd: $name ($pid) ignored SIGTERM, killing it" >&2
	kill -KILL "$pid" 2>/dev/null || true
}

dockerd_stop() {
	local dir=$1
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	dir=$(cd "$dir" && pwd)
	# Containers first, so their shims and runtimes exit cleanly.
	if [ -S "$dir/docker.sock" ]; then
		local ids
		ids=$("$DOCKER" -H "unix://$dir/docker.sock" ps -aq 2>/dev/null) || ids=
		[ -z "$ids" ] || "$DOCKER" -H "unix://$dir/docker.sock" rm -f $ids >/dev/null 2>&1 || true
	fi
	# dockerd.bgpid is the process we started; dockerd.pid is its own.
	_dockerd_kill "$dir/dockerd.bgpid" dockerd
	_dockerd_kill "$dir/containerd.pid" containerd
	# Shims outlive containerd by design; ours are the ones whose address is ours.
	local p
	for p in /proc/[0-9]*; do
		if tr '\0' ' ' 2>/dev/null <"$p/cmdline" | grep -q "containerd-shim.*-address $dir/containerd.sock"; then
			kill -KILL "${p#/proc/}" 2>/dev/null || true
		fi
	done
	# Mounts left under the dir (overlay2 layers, netns, shm), deepest first.
	awk -v d="$dir" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$dir"
}

# A busybox image from busybox-static, imported from a local tar.
dockerd_import_busybox() {
	local tmp
	tmp=$(mktemp -d /tmp/berth-bbimg.XXXXXX) || return 1
	local bb=/bin/busybox
	mkdir -p "$tmp"/{bin,proc,sys,dev,etc,tmp,root,home}
	cp "$bb" "$tmp/bin/busybox"
	local a
	for a in $("$bb" --list); do
		[ "$a" = busybox ] || ln -sf busybox "$tmp/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$tmp/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$tmp/etc/group"
	chmod 1777 "$tmp/tmp"
	local rc=0
	tar -C "$tmp" -cf - . | "$DOCKER" import --change 'CMD ["sh"]' \
		--change 'ENV PATH=/bin:/sbin:/usr/bin:/usr/sbin' - berth-test/busybox >/dev/null || rc=$?
	rm -rf "$tmp"
	return "$rc"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -euo pipefail
	case ${1:-} in
	start)
		dockerd_start "${2:?start DIR}"
		dockerd_import_busybox
		echo "DOCKER_HOST=$DOCKER_HOST"
		;;
	stop) dockerd_stop "${2:?stop DIR}" ;;
	*)
		echo "usage: $0 start|stop DIR" >&2
		exit 2
		;;
	esac
fi
