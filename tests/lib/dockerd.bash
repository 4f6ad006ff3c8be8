# dockerd.bash - a private dockerd for tests: its own data and exec roots,
# socket, pidfile and containerd namespace; no bridge and no iptables (the
# host's FORWARD policy is never touched). Stopped by its pid.
#
#   dockerd_start RUNTIME_PATH   start it with --add-runtime berth=RUNTIME_PATH; sets DOCKER
#   dockerd_stop                 stop it and remove everything it made
#   dockerd_busybox_image        import a busybox-static rootfs as berth-test/busybox

DOCKERD_DIR=${DOCKERD_DIR:-}

dockerd_start() {
	local runtime=$1
	DOCKERD_DIR=$(mktemp -d /tmp/berth-dockerd.XXXXXX)
	# Debian's docker.io client (API 1.41); a newer one may be first on PATH.
	DOCKER="/usr/bin/docker -H unix://$DOCKERD_DIR/docker.sock"
	/usr/sbin/dockerd \
		--data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" \
		--pidfile "$DOCKERD_DIR/docker.pid" -H "unix://$DOCKERD_DIR/docker.sock" \
		--bridge=none --iptables=false --ip6tables=false --ip-masq=false \
		--containerd-namespace "berth-test-$$" --containerd-plugins-namespace "berth-test-plugins-$$" \
		--add-runtime "berth=$runtime" >"$DOCKERD_DIR/dockerd.log" 2>&1 &
	echo $! >"$DOCKERD_DIR/dockerd.bgpid"
	local i
	for i in $(seq 1 100); do
		$DOCKER version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	echo "dockerd did not start:" >&2
	tail -20 "$DOCKERD_DIR/dockerd.log" >&2
	return 1
}

dockerd_stop() {
	[ -n "$DOCKERD_DIR" ] && [ -d "$DOCKERD_DIR" ] || return 0
	$DOCKER ps -aq 2>/dev/null | xargs -r $DOCKER rm -f >/dev/null 2>&1 || true
	local pid
	pid=$(cat "$DOCKERD_DIR/docker.pid" 2>/dev/null || cat "$DOCKERD_DIR/dockerd.bgpid")
	kill "$pid" 2>/dev/null || true
	local i
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
	# Its containerd lives under the exec root; whatever mounts it left go too.
	awk -v d="$DOCKERD_DIR" '$5 ~ "^"d {print $5}' /proc/self/mountinfo | sort -r |
		while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$DOCKERD_DIR"
}

dockerd_busybox_image() {
	local r=$DOCKERD_DIR/rootfs a
	mkdir -p "$r"/{bin,etc,proc,sys,dev,tmp}
	cp /bin/busybox "$r/bin/"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$r/bin/$a"
	done
	echo 'root:x:0:0:root:/root:/bin/sh' >"$r/etc/passwd"
	tar -C "$r" -c . | $DOCKER import - berth-test/busybox >/dev/null
}
