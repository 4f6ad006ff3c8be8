#!/bin/bash
# net.sh - Berth's bridge networking against Docker's, side by side in one run.
#
# Figures (issue 5):
#   1. run --rm busybox true on the default bridge: berth median <= 0.06 x
#      docker run --rm on docker0 (berth --network none printed for reference);
#   2. iperf3 throughput between two containers on the default bridge: berth
#      within 10 % of docker (median of ROUNDS 5-second runs per engine);
#   3. CONTAINERS sleeping containers n1..nN on one user network, each reached
#      by name from one client container (busybox nslookup): how many resolve,
#      the time to start them (xargs -P 8) and the time to resolve them all.
#
# Usage (root): bench/net.sh [RUNS] [CONTAINERS]   (defaults 20 and 200)
#               IPERF_ROUNDS=N (default 5)
#
# The host's networking is never touched: the script makes a network namespace
# (berth-bench-PID, lo up) and runs itself again inside it, in a mount
# namespace of its own (slave of the host's) with that namespace's sysfs. In
# there Berth makes its default bridge bbench0 (--bridge) and a private dockerd
# (tests/lib/start-dockerd.sh, DOCKERD_NETWORK=bridge) makes docker0 and its
# iptables rules; both engines' state lives in one temp dir under /run. At exit, however it exits: the
# inner run removes the containers and networks and stops dockerd by pid; the
# outer one ends what still runs in the namespace (by pid), deletes the
# namespace and the temp dir. Until berth has networking (`berth network ls`
# fails) only Docker's figures are measured. See bench/README.md.
#
#   outer part        the namespace, the re-exec, the outer trap
#   setup             images (busybox, iperf3 on busybox), dockerd, versions
#   figure 1..3       one block each
set -euo pipefail
RUNS=${1:-20}
N=${2:-200}
ROUNDS=${IPERF_ROUNDS:-5}
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")
SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BERTH_BUILD_DIR:-$SRC/build}
BERTH=$BUILD/src/cli/berth
BRIDGE=bbench0

# ---- outer part: a network namespace of our own, the script again inside it --
if [ -z "${BERTH_BENCH_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench: run as root" >&2; exit 1; }
	[ -x "$BERTH" ] || { echo "bench: build first (no $BERTH)" >&2; exit 1; }
	for x in hyperfine jq bc iperf3 ip timeout; do
		command -v $x >/dev/null || { echo "bench: needs $x" >&2; exit 1; }
	done
	NS=berth-bench-$$
	WORK=$(mktemp -d /run/berth-bench-net.XXXXXX)
	outer_cleanup() {
		set +e
		# What is left in the namespace is ours: the inner run was killed
		# before its own cleanup. TERM, up to 10 s, then KILL.
		local pids i
		pids=$(ip netns pids "$NS" 2>/dev/null)
		if [ -n "$pids" ]; then
			echo "bench: ending what was left in $NS: $(echo $pids)" >&2
			kill -TERM $pids 2>/dev/null
			for i in $(seq 1 100); do
				pids=$(ip netns pids "$NS" 2>/dev/null)
				[ -z "$pids" ] && break
				sleep 0.1
			done
			[ -z "$pids" ] || kill -KILL $pids 2>/dev/null
		fi
		ip netns delete "$NS" 2>/dev/null
		rm -rf "$WORK"
	}
	trap outer_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	ip netns add "$NS"
	ip -n "$NS" link set lo up
	rc=0
	# Not `ip netns exec`: its fresh /sys hides the cgroup mounts the engines
	# need. A mount namespace whose mounts are slaves of the host's, and a
	# sysfs of the new network namespace (below) with the cgroup tree moved in.
	BERTH_BENCH_NS=$NS BERTH_BENCH_WORK=$WORK nsenter --net="/run/netns/$NS" \
		unshare --mount --propagation slave bash "$SELF" "$RUNS" "$N" || rc=$?
	exit "$rc"
fi

# ---- inside the namespace ----------------------------------------------------
WORK=$BERTH_BENCH_WORK
NS=$BERTH_BENCH_NS
source "$SRC/tests/lib/start-dockerd.sh"
if [ "$(stat -L -c %i /proc/self/ns/net)" != "$(stat -L -c %i "/run/netns/$NS")" ] || ! _dockerd_own_netns; then
	echo "bench: not inside the network namespace $NS" >&2
	exit 1
fi
# ip_forward off, as on a fresh host (a new namespace copies the host's): so
# dockerd turns it on and sets FORWARD's policy to DROP, which Berth's
# bridges must get through, as on a host that runs both.
sysctl -qw net.ipv4.ip_forward=0
# /sys/class/net of this namespace (sysfs shows the devices of the namespace
# that mounts it), and the host's cgroup mounts kept under it.
mkdir "$WORK/cgroup"
mount --rbind /sys/fs/cgroup "$WORK/cgroup"
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mount --move "$WORK/cgroup" /sys/fs/cgroup
rmdir "$WORK/cgroup"
bargs=(--root "$WORK/root" --runroot "$WORK/run" --bridge "$BRIDGE")
b() { "$BERTH" "${bargs[@]}" "$@"; }
BCMD="$BERTH ${bargs[*]}" # for hyperfine, which splits on spaces (-N)
HAVE_BERTH=0
DOCKER_UP=0

cleanup() {
	set +e
	if [ "$HAVE_BERTH" = 1 ]; then
		b ps -aq 2>/dev/null | timeout 300 xargs -r -n 20 "$BERTH" "${bargs[@]}" rm -f >/dev/null 2>&1
		timeout 30 "$BERTH" "${bargs[@]}" network rm bench-net >/dev/null 2>&1
	fi
	if [ "$DOCKER_UP" = 1 ]; then
		$DOCKER ps -aq | timeout 300 xargs -r -n 20 $DOCKER rm -f >/dev/null 2>&1
		timeout 30 $DOCKER network rm bench-net >/dev/null 2>&1
		dockerd_stop "$WORK/docker"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

hf() {
	hyperfine -N --style none "$@" >"$WORK/hyperfine.log" 2>&1 || {
		cat "$WORK/hyperfine.log" >&2
		return 1
	}
}
median() { sort -g | awk '{v[NR] = $1} END {if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# awk, not bc: jq may print 1.5e+10.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "nan" || b == "nan" || b == 0) print "nan"; else print a / b}'; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN {print b - a}'; }
# ENGINE -> the command, in the array eng (a function would not run under timeout or xargs).
engine() { if [ "$1" = berth ]; then eng=("$BERTH" "${bargs[@]}"); else eng=("$DOCKER"); fi; }

# ---- setup: images -----------------------------------------------------------
# busybox: every applet, passwd and group; iperf3: the same plus the host's
# iperf3, the libraries ldd lists and the dynamic loader, at their paths.
bbroot() {
	mkdir -p "$1"/{bin,proc,sys,dev,etc,tmp,root}
	cp /bin/busybox "$1/bin/busybox"
	local a
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$1/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$1/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$1/etc/group"
	chmod 1777 "$1/tmp"
}
bbroot "$WORK/bb"
tar -C "$WORK/bb" -cf "$WORK/bb.tar" .
bbroot "$WORK/ip"
mkdir -p "$WORK/ip/usr/bin"
cp /usr/bin/iperf3 "$WORK/ip/usr/bin/"
for lib in $(ldd /usr/bin/iperf3 | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
	mkdir -p "$WORK/ip$(dirname "$lib")"
	cp -L "$lib" "$WORK/ip$lib"
done
tar -C "$WORK/ip" -cf "$WORK/iperf3.tar" .
chroot "$WORK/ip" /usr/bin/iperf3 --version >/dev/null || { echo "bench: the iperf3 rootfs does not run" >&2; exit 1; }

if b network ls >/dev/null 2>&1; then
	HAVE_BERTH=1
	b import "$WORK/bb.tar" bench/busybox >/dev/null
	b import "$WORK/iperf3.tar" bench/iperf3 >/dev/null
else
	echo "bench: this berth has no networking (berth network ls fails): Docker's figures only" >&2
fi

# A private dockerd with docker0 and iptables, inside this namespace only.
DOCKER_UP=1
DOCKERD_NETWORK=bridge BERTH_RUNTIME=${RUNC:-runc} dockerd_start "$WORK/docker" >/dev/null
$DOCKER import "$WORK/bb.tar" bench/busybox >/dev/null
$DOCKER import "$WORK/iperf3.tar" bench/iperf3 >/dev/null

echo "netns:  $NS (kernel $(uname -r))"
echo "berth:  $BERTH ($("$BERTH" --version))$([ "$HAVE_BERTH" = 1 ] || echo ' - no networking, skipped')"
echo "docker: $($DOCKER version --format '{{.Server.Version}}' 2>/dev/null) (containerd $(containerd --version | awk '{print $3}'))"
echo "iperf3: $(iperf3 --version | head -1)"
echo "runs: $RUNS per timing (medians), $ROUNDS iperf3 rounds of 5 s, $N containers"
echo

# ---- figure 1: run --rm busybox true on the default bridge -------------------
# In rounds of 5 runs of each command, the commands taking turns, so a load
# that comes and goes on the machine falls on all of them; medians of all runs.
cmds=()
[ "$HAVE_BERTH" = 1 ] && cmds+=("$BCMD run --rm bench/busybox true" "$BCMD run --rm --network none bench/busybox true")
cmds+=("$DOCKER run --rm bench/busybox true")
for i in "${!cmds[@]}"; do : >"$WORK/times-$i"; done
left=$RUNS warm=3
while [ "$left" -gt 0 ]; do
	n=$((left <= 6 ? left : 5))
	hf --warmup "$warm" --runs "$n" --export-json "$WORK/run.json" "${cmds[@]}"
	for i in "${!cmds[@]}"; do jq -r ".results[$i].times[] * 1000" "$WORK/run.json" >>"$WORK/times-$i"; done
	left=$((left - n)) warm=1
done
if [ "$HAVE_BERTH" = 1 ]; then
	bm=$(median <"$WORK/times-0")
	bn=$(median <"$WORK/times-1")
	dm=$(median <"$WORK/times-2")
else
	bm=nan bn=nan
	dm=$(median <"$WORK/times-0")
fi
printf '%-36s berth %8.2f ms   docker %8.2f ms   ratio %.3f (goal <= 0.06)\n' \
	"run --rm busybox true, bridge:" "$bm" "$dm" "$(ratio "$bm" "$dm")"
printf '%-36s berth %8.2f ms   (medians of %d runs each)\n' "  berth --network none:" "$bn" "$RUNS"
bridge_of() { "$@" network inspect bridge 2>/dev/null |
	jq -r '.[0] | (.Options["com.docker.network.bridge.name"] // "?") + " " + (.IPAM.Config[0].Subnet // "?")' || echo "?"; }
printf '%-36s berth %s   docker %s\n' "  default bridges:" \
	"$([ "$HAVE_BERTH" = 1 ] && bridge_of "$BERTH" "${bargs[@]}" || echo -)" "$(bridge_of "$DOCKER")"
printf '%-36s FORWARD policy %s, bridge-nf-call-iptables %s\n' "  this namespace's firewall:" \
	"$(iptables -S FORWARD 2>/dev/null | awk '$1 == "-P" {print $3}')" "$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null)"

# ---- figure 2: iperf3 between two containers on the default bridge -----------
# ENGINE: "berth" or "docker". Prints bits per second (receiver's), or nothing.
iperf_once() {
	local e=$1 eng
	engine "$e"
	local c=("${eng[@]}")
	"${c[@]}" rm -f bench-iperf-srv >/dev/null 2>&1 || true
	timeout 30 "${c[@]}" run -d --name bench-iperf-srv bench/iperf3 /usr/bin/iperf3 -s -1 --forceflush >/dev/null || return 1
	local ip i
	ip=$("${c[@]}" inspect bench-iperf-srv | jq -r '[.[0].NetworkSettings.Networks[].IPAddress | select(. != "")][0] // empty')
	[ -n "$ip" ] || { echo "bench: $e: no address for the iperf3 server" >&2; return 1; }
	for i in $(seq 1 100); do
		"${c[@]}" logs bench-iperf-srv 2>/dev/null | grep -q 'Server listening' && break
		sleep 0.1
	done
	timeout 60 "${c[@]}" run --rm bench/iperf3 /usr/bin/iperf3 -c "$ip" -t 5 -J >"$WORK/iperf-$e.json" || {
		jq -r '.error // empty' "$WORK/iperf-$e.json" >&2 2>/dev/null
		"${c[@]}" rm -f bench-iperf-srv >/dev/null 2>&1
		return 1
	}
	"${c[@]}" rm -f bench-iperf-srv >/dev/null 2>&1
	jq -r '.end.sum_received.bits_per_second' "$WORK/iperf-$e.json"
}
: >"$WORK/bps-berth"
: >"$WORK/bps-docker"
for r in $(seq 1 "$ROUNDS"); do
	[ "$HAVE_BERTH" = 1 ] && { iperf_once berth >>"$WORK/bps-berth" || echo "bench: berth iperf3 round $r failed" >&2; }
	iperf_once docker >>"$WORK/bps-docker" || echo "bench: docker iperf3 round $r failed" >&2
done
gb() { awk -v a="$1" 'BEGIN {if (a == "nan") print "nan"; else print a / 1e9}'; }
bt=$(median <"$WORK/bps-berth")
dt=$(median <"$WORK/bps-docker")
printf '%-36s berth %8.2f Gb/s docker %8.2f Gb/s ratio %.3f (goal >= 0.90)\n' \
	"iperf3 on the default bridge:" "$(gb "$bt")" "$(gb "$dt")" "$(ratio "$bt" "$dt")"
printf '%-36s berth %s   docker %s\n' "  rounds (Gb/s):" \
	"$(while read -r v; do printf '%.2f ' "$(gb "$v")"; done <"$WORK/bps-berth")" \
	"$(while read -r v; do printf '%.2f ' "$(gb "$v")"; done <"$WORK/bps-docker")"

# ---- figure 3: N containers on one user network, each found by name -----------
# ENGINE SUBNET: prints "resolved start_s resolve_s remove_s".
many() {
	local e=$1 eng t0 start resolve ok
	engine "$e"
	local c=("${eng[@]}")
	"${c[@]}" network create --subnet "$2" bench-net >/dev/null || { echo "0 nan nan nan"; return; }
	t0=$(now)
	seq "$N" | timeout 600 xargs -P 8 -I{} "${c[@]}" run -d --name n{} --network bench-net bench/busybox sleep 1800 \
		>"$WORK/started-$e" 2>"$WORK/start-errors-$e" || true
	start=$(since "$t0")
	local started
	started=$(grep -c . "$WORK/started-$e" || true)
	[ "$started" = "$N" ] || echo "bench: $e: $started of $N started; first error: $(head -1 "$WORK/start-errors-$e")" >&2
	# One line per name found; a timeout still leaves the count of those.
	t0=$(now)
	timeout 600 "${c[@]}" run --rm --network bench-net bench/busybox sh -c \
		"PATH=/bin; i=1; while [ \$i -le $N ]; do nslookup -type=a n\$i >/dev/null 2>&1 && echo ok; i=\$((i + 1)); done" \
		>"$WORK/resolved-$e" || true
	resolve=$(since "$t0")
	ok=$(grep -c '^ok$' "$WORK/resolved-$e" || true)
	# Untimed (an unknown name may wait for upstream servers): n0 does not
	# exist, so if it resolves the count means nothing.
	timeout 60 "${c[@]}" run --rm --network bench-net bench/busybox nslookup -type=a n0 >/dev/null 2>&1 &&
		ok="$ok(but n0 too!)"
	t0=$(now)
	seq "$N" | sed 's/^/n/' | timeout 600 xargs -r -n 20 -P 4 "${c[@]}" rm -f >/dev/null 2>&1 || true
	# A failed rm, or an endpoint left behind (dockerd 20.10 keeps one now
	# and then after 200 parallel rm -f, listed under no container, and no
	# error in its log): the names again, then disconnect -f what the network
	# still lists.
	local try left x
	for try in 1 2 3 4; do
		"${c[@]}" network rm bench-net >/dev/null 2>"$WORK/netrm.err" && break
		left=$("${c[@]}" network inspect bench-net | jq -r '.[0].Containers // {} | [.[].Name] | join(" ")') || true
		if [ "$try" = 4 ]; then
			if [ -z "$left" ]; then
				echo "bench: $e: bench-net keeps an endpoint no container owns (dockerd 20.10 does," \
					"now and then, after $N rm -f); it goes with dockerd at exit" >&2
			else
				echo "bench: $e: network rm: $(cat "$WORK/netrm.err") (left: $left)" >&2
			fi
			break
		fi
		sleep 1
		if [ "$try" = 1 ]; then
			seq "$N" | sed 's/^/n/' | timeout 600 xargs -r -n 20 "${c[@]}" rm -f >/dev/null 2>&1 || true
		else
			for x in $left; do timeout 30 "${c[@]}" network disconnect -f bench-net "$x" >/dev/null 2>&1 || true; done
		fi
	done
	echo "$ok $start $resolve $(since "$t0")"
}
# Subnets of their own: docker0 is 172.17/16, Berth's default bridge the
# first free pool from 172.18/16.
bok=- bstart=nan bres=nan brm=nan dok=- dstart=nan dres=nan drm=nan
[ "$HAVE_BERTH" = 1 ] && { read -r bok bstart bres brm < <(many berth 172.29.0.0/16) || true; }
read -r dok dstart dres drm < <(many docker 172.30.0.0/16) || true
printf '%-36s berth %s/%d resolved   docker %s/%d resolved\n' "$N containers on one network:" "$bok" "$N" "$dok" "$N"
printf '%-36s berth %8.2f s    docker %8.2f s    ratio %.3f\n' "  start $N (xargs -P 8):" "$bstart" "$dstart" "$(ratio "$bstart" "$dstart")"
printf '%-36s berth %8.2f s    docker %8.2f s    ratio %.3f\n' "  resolve $N by name (one client):" "$bres" "$dres" "$(ratio "$bres" "$dres")"
printf '%-36s berth %8.2f s    docker %8.2f s\n' "  remove $N:" "$brm" "$drm"
