#!/usr/bin/env bats
# containers-fs.bats - a container's filesystem as a docker user reaches it:
# `diff` after changes, `commit` (then run the new image, -c, history) and
# `cp` both ways for files, directories and tar streams, on running and on
# stopped containers, without escaping the rootfs through its symlinks.
# Each test has its own --root and --runroot; the image is a busybox rootfs
# imported with `berth import` (no registry needed).

bats_require_minimum_version 1.5.0

load helpers

load container-helpers

setup_file() {
	image_rootfs_begin
	echo original >"$IMGDIR/rootfs/etc/motd"
	image_rootfs_end
}

teardown_file() {
	rm -rf "$IMGDIR"
}

setup() {
	container_setup
	HOST=$TEST_TMP/host
	mkdir -p "$HOST"
}

teardown() { container_teardown; }

# Nothing of cp's temporary mounts is left behind.
assert_no_mounts() {
	if grep -q " $RUN/" /proc/self/mountinfo; then
		grep " $RUN/" /proc/self/mountinfo
		return 1
	fi
}


@test "diff: added, changed and deleted paths, sorted, for a stopped container" {
	run -0 b run --name c1 bb:test sh -c 'echo new >/etc/new; echo changed >/etc/motd; rm /bin/false; mkdir -p /tmp/d; echo x >/tmp/d/f'
	run -0 b diff c1
	expected='C /bin
D /bin/false
C /etc
C /etc/motd
A /etc/new
C /tmp
A /tmp/d
A /tmp/d/f'
	[ "$output" = "$expected" ] || { echo "$output"; return 1; }
	# The runtime's mount points (/etc/hosts...) are no change of the container's.
	run -0 b container diff c1
	[[ "$output" != *hosts* ]]
	[[ "$output" != *resolv.conf* ]]
}

@test "diff: a running container, an opaque directory, nothing changed" {
	run -0 b create --name idle bb:test true
	run -0 b diff idle
	[ -z "$output" ]
	run -0 b run -d --name c2 bb:test sh -c 'rm -rf /home; mkdir /home; touch /home/x; sleep 30'
	wait_running c2
	run -0 b exec c2 touch /root/r
	run -0 b diff c2
	[[ "$output" == *"C /home"* ]]
	[[ "$output" == *"A /home/x"* ]]
	[[ "$output" == *"C /root"* ]]
	[[ "$output" == *"A /root/r"* ]]
	run -1 b diff nosuch
	[[ "$output" == *"No such container: nosuch"* ]]
}

@test "commit: the new image runs with the container's files and shows in images and history" {
	run -0 b run --name c1 bb:test sh -c 'echo committed >/etc/new; rm /etc/motd'
	run -0 b commit -a "Ann Author" -m "my change" c1 bb:committed
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	id=$output
	run -0 b images --format '{{.Repository}}:{{.Tag}} {{.ID}}'
	[[ "$output" == *"bb:committed ${id:7:12}"* ]]
	run -0 b run --rm bb:committed cat /etc/new
	[ "$output" = committed ]
	run -1 b run --rm bb:committed cat /etc/motd
	run -0 b image history --format '{{.CreatedBy}}|{{.Comment}}' bb:committed
	[ "${#lines[@]}" -eq 2 ]
	[[ "${lines[0]}" == *"echo committed"*"|my change" ]]
	run -0 b image inspect -f '{{.Author}} {{len .RootFS.Layers}} {{json .Config.Cmd}}' bb:committed
	# The container's command becomes the image's, as docker commit does.
	[[ "$output" == "Ann Author 2 "*'"sh","-c"'* ]]
}

@test "commit -c: CMD, ENV and LABEL applied as import -c applies them; untagged commit" {
	run -0 b run --name c1 -e FOO=bar bb:test touch /marker
	run -0 b commit -c 'CMD ["echo","x"]' -c 'LABEL team=fs' c1 bb:cmd
	run -0 b run --rm bb:cmd
	[ "$output" = x ]
	run -0 b image inspect -f '{{json .Config.Labels}} {{json .Config.Env}}' bb:cmd
	[[ "$output" == *'"team":"fs"'* ]]
	[[ "$output" == *'FOO=bar'* ]]
	run -0 b commit c1
	[[ "$output" =~ ^sha256:[0-9a-f]{64}$ ]]
	run -0 b run --rm "${output:7}" ls /marker
	run -1 b commit -c 'BOGUS x' c1
	[[ "$output" == *"BOGUS is not a valid change command"* ]]
}

@test "commit: a running container (paused meanwhile, running after)" {
	run -0 b run -d --name r1 bb:test sh -c 'echo live >/tmp/live; sleep 30'
	wait_running r1
	for _ in $(seq 50); do b exec r1 test -f /tmp/live && break; sleep 0.1; done
	run -0 b commit r1 bb:live
	run -0 b inspect -f '{{.State.Status}}' r1
	[ "$output" = running ]
	run -0 b run --rm bb:live cat /tmp/live
	[ "$output" = live ]
}

@test "cp: from a stopped container, files and directories, docker's placement rules" {
	run -0 b run --name c1 bb:test sh -c 'mkdir -p /data/sub; echo one >/data/one; echo two >/data/sub/two'
	# file to a new name, file into a dir
	run -0 b cp c1:/data/one "$HOST/copy"
	[ "$(cat "$HOST/copy")" = one ]
	mkdir "$HOST/into"
	run -0 b cp c1:/data/one "$HOST/into"
	[ "$(cat "$HOST/into/one")" = one ]
	# dir to a new name, dir into an existing dir, dir/. contents into a dir
	run -0 b cp c1:/data "$HOST/newdir"
	[ "$(cat "$HOST/newdir/sub/two")" = two ]
	run -0 b cp c1:/data "$HOST/into"
	[ "$(cat "$HOST/into/data/sub/two")" = two ]
	mkdir "$HOST/contents"
	run -0 b cp c1:/data/. "$HOST/contents"
	[ "$(cat "$HOST/contents/one")" = one ]
	[ -d "$HOST/contents/sub" ]
	# a relative container path is from /
	run -0 b cp c1:etc/motd "$HOST/motd"
	[ "$(cat "$HOST/motd")" = original ]
	assert_no_mounts
}

@test "cp: into a stopped container, then run it and see the files" {
	run -0 b create --name c1 bb:test cat /etc/added /root/dir/inner/f /opt/inner/f
	echo added >"$HOST/added"
	mkdir -p "$HOST/dir/inner"
	echo deep >"$HOST/dir/inner/f"
	run -0 b cp "$HOST/added" c1:/etc/
	# into an existing dir, and as a new dir that gets the contents
	run -0 b cp "$HOST/dir" c1:/root
	run -0 b cp "$HOST/dir" c1:/opt
	run -0 b start -a c1
	[ "${lines[0]}" = added ]
	[ "${lines[1]}" = deep ]
	[ "${lines[2]}" = deep ]
	run -0 b diff c1
	[[ "$output" == *"A /etc/added"* ]]
	[[ "$output" == *"A /root/dir/inner/f"* ]]
	[[ "$output" == *"A /opt/inner/f"* ]]
	assert_no_mounts
}

@test "cp: a running container, both ways, and tar streams on stdin/stdout" {
	run -0 b run -d --name r1 bb:test sh -c 'echo running >/tmp/r; sleep 30'
	wait_running r1
	for _ in $(seq 50); do b exec r1 test -f /tmp/r && break; sleep 0.1; done
	run -0 b cp r1:/tmp/r "$HOST/r"
	[ "$(cat "$HOST/r")" = running ]
	echo in >"$HOST/in"
	run -0 b cp "$HOST/in" r1:/root/in
	run -0 b exec r1 cat /root/in
	[ "$output" = in ]
	# docker cp CONTAINER:SRC - writes a tar
	run -0 bash -c "'$BERTH' --root '$ROOT' --runroot '$RUN' cp r1:/tmp/r - | tar -tf -"
	[ "$output" = r ]
	# docker cp - CONTAINER:DIR reads one
	mkdir -p "$HOST/t/x"
	echo streamed >"$HOST/t/x/s"
	run -0 bash -c "tar -C '$HOST/t' -cf - x | '$BERTH' --root '$ROOT' --runroot '$RUN' cp - r1:/tmp"
	run -0 b exec r1 cat /tmp/x/s
	[ "$output" = streamed ]
}

@test "cp: -a keeps uid/gid, without it the copy is root's" {
	run -0 b create --name c1 bb:test true
	echo owned >"$HOST/owned"
	chown 1000:2000 "$HOST/owned"
	run -0 b cp "$HOST/owned" c1:/tmp/plain
	run -0 b cp -a "$HOST/owned" c1:/tmp/archived

	run -0 bash -c "'$BERTH' --root '$ROOT' --runroot '$RUN' cp c1:/tmp - | tar -tvf - --numeric-owner"
	[[ "$output" == *"0/0"*"tmp/plain"* ]]
	[[ "$output" == *"1000/2000"*"tmp/archived"* ]]
}

@test "cp: a symlink pointing outside does not escape the container" {
	run -0 b run -d --name r1 bb:test sh -c 'ln -s / /tmp/esc; ln -s /etc/passwd /tmp/pw; sleep 30'
	wait_running r1
	for _ in $(seq 50); do b exec r1 test -L /tmp/pw && break; sleep 0.1; done
	# Through the link: the container's /etc/passwd, not the host's.
	run -0 b cp r1:/tmp/esc/etc/passwd "$HOST/p1"
	grep -q '^tester:x:1000' "$HOST/p1"
	# The link itself by default, its target (inside) with -L.
	run -0 b cp r1:/tmp/pw "$HOST/p2"
	[ -L "$HOST/p2" ]
	[ "$(readlink "$HOST/p2")" = /etc/passwd ]
	run -0 b cp -L r1:/tmp/pw "$HOST/p3"
	[ ! -L "$HOST/p3" ]
	grep -q '^tester:x:1000' "$HOST/p3"
	# Writing through it lands in the container's /tmp, not the host's.
	name=berth-fs-escape-$$-$RANDOM
	echo mine >"$HOST/$name"
	run -0 b cp "$HOST/$name" "r1:/tmp/esc/tmp/"
	[ ! -e "/tmp/$name" ]
	run -0 b exec r1 cat "/tmp/$name"
	[ "$output" = mine ]
	# And a stopped container the same.
	run -0 b stop -t 0 r1
	run -0 b cp "$HOST/$name" "r1:/tmp/esc/etc/"
	[ ! -e "/etc/$name" ]
	run -0 b cp r1:/tmp/esc/etc/passwd "$HOST/p4"
	grep -q '^tester:x:1000' "$HOST/p4"
	assert_no_mounts
}

@test "cp: errors as docker words them" {
	run -0 b create --name c1 bb:test true
	run -1 b cp c1:/nope "$HOST/x"
	[[ "$output" == *"Could not find the file /nope in container c1"* ]]
	run -1 b cp "$HOST/nope" c1:/tmp
	[[ "$output" == *"no such file or directory"* || "$output" == *"No such file or directory"* ]]
	mkdir "$HOST/adir"
	echo f >"$HOST/afile"
	run -1 b cp c1:/etc "$HOST/afile"
	[[ "$output" == *"cannot copy a directory to a file"* ]]
	run -1 b cp c1:/etc/motd "$HOST/missing/"
	[[ "$output" == *"does not exist"* ]]
	run -1 b cp c1:/a c1:/b
	[[ "$output" == *"copying between containers is not supported"* ]]
	run -1 b cp "$HOST/afile" "$HOST/b"
	[[ "$output" == *"must specify at least one container source"* ]]
	run -1 b cp "$HOST/afile" nosuch:/tmp
	[[ "$output" == *"No such container: nosuch"* ]]
	run -125 b cp onlyone
	assert_no_mounts
}
