#!/usr/bin/env bats
# network.bats - containers on bridge networks as a docker user sees them:
# the default bridge (address, route, NAT out), user networks (names,
# aliases, --internal), published ports (127.0.0.1, the host's address,
# another container, UDP, random ports), connect/disconnect, and what is
# left after: no lease, veth, rule, bridge or responder of the test's.
# Traffic goes only to loopback, the host's own address and the test's
# containers (and Debian's mirror for the apt-get test).

bats_require_minimum_version 1.5.0

load helpers
load container-helpers

setup_file() {
	image_rootfs_begin
	mkdir -p "$IMGDIR/rootfs/www"
	echo hello-from-web >"$IMGDIR/rootfs/www/index.html"
	image_rootfs_end
}

teardown_file() {
	rm -rf "$IMGDIR"
}

setup() {
	container_setup
}

teardown() {
	container_teardown
}

# An httpd answering "hello-from-web" on port 80.
WEB=(sh -c 'exec httpd -f -p 80 -h /www')

# The host's own address (not loopback).
host_ip() {
	ip -4 -o addr show scope global | awk '{ sub("/.*", "", $4); print $4; exit }'
}

# A TCP port free on the host now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])'
}

fetch() {
	timeout 5 /bin/busybox wget -qO- "$1"
}

@test "default bridge: an address from the bridge's subnet, a default route, /etc/hosts, the host's resolvers" {
	run -0 b run --rm --name c1 bb:test sh -c \
		'ip -4 -o addr show eth0; ip route; cat /etc/hosts; cat /etc/resolv.conf; ping -c1 -W2 $(ip route | awk "/default/ { print \$3 }") >/dev/null && echo GW-OK'
	echo "$output"
	gw=$(b network inspect bridge | jq -r '.[0].IPAM.Config[0].Gateway')
	subnet=$(b network inspect bridge | jq -r '.[0].IPAM.Config[0].Subnet')
	[ -n "$gw" ] && [ "$gw" != null ]
	[[ "$output" == *"default via $gw dev eth0"* ]]
	[[ "$output" == *GW-OK* ]]
	addr=$(echo "$output" | awk '/inet / { sub("/.*", "", $4); print $4; exit }')
	# the address in /etc/hosts, under the container's hostname
	grep -q "^$addr[[:space:]]" <<<"$output"
	python3 -c "import ipaddress,sys; sys.exit(ipaddress.ip_address('$addr') not in ipaddress.ip_network('$subnet'))"
	# the host's resolvers, minus loopback ones
	grep '^nameserver' /etc/resolv.conf | grep -v ' 127\.' | head -1 | while read -r l; do
		[[ "$output" == *"$l"* ]]
	done
	ip -o link show "$BRIDGE" | grep -q "$BRIDGE"
	assert_net_clean
}

@test "default bridge: two containers get two addresses; inspect shows them; names do not resolve" {
	b run -d --name a1 bb:test sleep 60
	b run -d --name a2 bb:test sleep 60
	ip1=$(b inspect -f '{{.NetworkSettings.IPAddress}}' a1)
	ip2=$(b inspect -f '{{.NetworkSettings.IPAddress}}' a2)
	[ -n "$ip1" ] && [ -n "$ip2" ] && [ "$ip1" != "$ip2" ]
	run -0 b inspect a1
	echo "$output" | jq -e --arg ip "$ip1" '.[0].NetworkSettings.Networks.bridge.IPAddress == $ip and
		(.[0].NetworkSettings.Networks.bridge.MacAddress | test("^02:42:"))'
	run -0 b exec a1 ping -c1 -W2 "$ip2"
	run -1 b exec a1 ping -c1 -W1 a2
	run -0 b network inspect bridge
	echo "$output" | jq -e '.[0].Containers | length == 2'
	b rm -f a1 a2
	assert_net_clean
}

@test "user network: containers find each other by name, alias and hostname; outside names still resolve upstream" {
	b network create tnet
	b run -d --name web --network tnet --network-alias www --hostname webhost bb:test "${WEB[@]}"
	run -0 b run --rm --network tnet bb:test sh -c \
		'ping -c1 -W2 web >/dev/null && timeout 5 wget -qO- http://web/ && timeout 5 wget -qO- http://www/ && timeout 5 wget -qO- http://webhost/ && cat /etc/resolv.conf'
	echo "$output"
	[ "$(grep -c hello-from-web <<<"$output")" = 3 ]
	gw=$(b network inspect tnet | jq -r '.[0].IPAM.Config[0].Gateway')
	[[ "$output" == *"nameserver $gw"* ]]
	# a name the network does not know goes to the host's resolvers
	# (answered or refused by them, not by a timeout of Berth's responder)
	run b run --rm --network tnet bb:test nslookup -type=a no-such-name.invalid
	echo "$output"
	[[ "$output" == *"Server:"*"$gw"* ]]
	# a rename is answered at once
	b rename web web2
	run -0 b run --rm --network tnet bb:test timeout 5 wget -qO- http://web2/
	[ "$output" = hello-from-web ]
	# gone when the container is
	b rm -f web2
	run -1 b run --rm --network tnet bb:test ping -c1 -W1 web2
	assert_net_clean
	b network rm tnet
	[ -z "$(ls "$RUN/networks" 2>/dev/null)" ] || ls -R "$RUN/networks"
	! pgrep -f "berth-dns .*$RUN/" || { pgrep -af berth-dns; false; }
}

@test "user network: --internal has no way out, but its containers reach each other" {
	b network create --internal inet1
	b run -d --name i1 --network inet1 bb:test sleep 60
	run -0 b run --rm --network inet1 bb:test sh -c 'ip route; ping -c1 -W2 i1 >/dev/null && echo PEER-OK'
	echo "$output"
	[[ "$output" != *default* ]]
	[[ "$output" == *PEER-OK* ]]
	run -1 b run --rm --network inet1 bb:test ping -c1 -W1 "$(host_ip)"
	b rm -f i1
	assert_net_clean
}

@test "published ports: 127.0.0.1, the host's address, another container, itself, a random port in 'berth port'" {
	p1=$(free_port)
	p2=$(free_port)
	b run -d --name web -p "127.0.0.1:$p1:80" -p "$p2:80" -p 8080 bb:test "${WEB[@]}"
	sleep 0.3
	[ "$(fetch "http://127.0.0.1:$p1/")" = hello-from-web ]
	[ "$(fetch "http://127.0.0.1:$p2/")" = hello-from-web ]
	[ "$(fetch "http://$(host_ip):$p2/")" = hello-from-web ]
	# bound to 127.0.0.1 only: not on the host's address
	run ! fetch "http://$(host_ip):$p1/"
	# from another container, through the host's address (hairpin)
	run -0 b run --rm bb:test timeout 5 wget -qO- "http://$(host_ip):$p2/"
	[ "$output" = hello-from-web ]
	# and from the container itself (hairpin mode on its bridge port)
	run -0 b exec web timeout 5 wget -qO- "http://$(host_ip):$p2/"
	[ "$output" = hello-from-web ]
	run -0 b port web
	echo "$output"
	[[ "$output" == *"80/tcp -> 127.0.0.1:$p1"* ]]
	[[ "$output" == *"80/tcp -> 0.0.0.0:$p2"* ]]
	rnd=$(b port web 8080/tcp | head -1 | sed 's/.*://')
	[ "$rnd" -gt 0 ]
	# and in ps, as docker shows them
	run -0 b ps --format '{{.Names}} {{.Networks}} {{.Ports}}'
	echo "$output"
	[[ "$output" == "web bridge "* ]]
	[[ "$output" == *"0.0.0.0:$p2->80/tcp"* && "$output" == *"127.0.0.1:$p1->80/tcp"* ]]
	[[ "$output" == *", 0.0.0.0:$rnd->8080/tcp" ]]
	# the same host port for a second container: Docker's refusal, nothing left
	run -125 b run -d --name web2 -p "$p2:80" bb:test "${WEB[@]}"
	[[ "$output" == *"port is already allocated"* ]]
	b rm -f web2 2>/dev/null || true
	b rm -f web
	run ! fetch "http://127.0.0.1:$p2/"
	assert_net_clean
}

# A UDP service in the container: berth-dns (static) answering from a names
# file; the host asks through the published port with a hand-made query.
dns_ask() { # PORT NAME -> the first A record's address
	python3 - "$1" "$2" <<'PY'
import socket, struct, sys
port, name = int(sys.argv[1]), sys.argv[2]
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0" + struct.pack(">HH", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(5):
    try:
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(512)
        break
    except socket.timeout:
        continue
else:
    sys.exit(1)
if struct.unpack(">H", r[6:8])[0] < 1:
    sys.exit(2)
print(socket.inet_ntoa(r[-4:]))
PY
}

@test "published ports: -P publishes every EXPOSEd port on a free one; ranges map one to one, or take the first free" {
	b import -c 'CMD ["sh"]' -c 'EXPOSE 80 81/udp' "$IMGDIR/rootfs.tar" bbx:test >/dev/null
	b run -d --name all -P bbx:test sleep 60
	run -0 b port all
	echo "$output"
	[[ "${lines[0]}" =~ ^80/tcp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
	[[ "${lines[1]}" =~ ^81/udp\ -\>\ 0\.0\.0\.0:[0-9]+$ ]]
	# exposed, not published: in inspect's Config and in ps, as docker shows them
	b run -d --name none bbx:test sleep 60
	run -0 b inspect -f '{{json .Config.ExposedPorts}}' none
	[ "$output" = '{"80/tcp":{},"81/udp":{}}' ]
	run -0 b ps --filter name=none --format '{{.Ports}}'
	[ "$output" = "80/tcp, 81/udp" ]
	b rm -f none
	base=$((20000 + RANDOM % 20000))
	b run -d --name rng -p "$base-$((base + 1)):80-81" -p "$((base + 10))-$((base + 20)):90" bbx:test sleep 60
	run -0 b port rng
	echo "$output"
	[[ "$output" == *"80/tcp -> 0.0.0.0:$base"* ]]
	[[ "$output" == *"81/tcp -> 0.0.0.0:$((base + 1))"* ]]
	p90=$(b port rng 90 | sed 's/.*://')
	[ "$p90" -ge $((base + 10)) ] && [ "$p90" -le $((base + 20)) ]
	b rm -f all rng
	assert_net_clean
}

@test "published ports: UDP" {
	p=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("",0)); print(s.getsockname()[1])')
	echo "10.9.8.7 udp-probe" >"$TEST_TMP/names"
	# the host's libraries too: sanitized builds link berth-dns dynamically
	b run -d --name u1 -p "$p:5300/udp" -v "$BUILD/src/dns/berth-dns:/berth-dns:ro" \
		-v /usr/lib:/lib:ro -v /usr/lib:/usr/lib:ro -v /usr/lib64:/lib64:ro \
		-v "$TEST_TMP/names:/names:ro" bb:test \
		/berth-dns --listen 0.0.0.0:5300 --names /names --lock /tmp/lock --upstream 127.0.0.1:9
	run -0 dns_ask "$p" udp-probe
	[ "$output" = 10.9.8.7 ]
	b rm -f u1
	run ! dns_ask "$p" udp-probe
	assert_net_clean
}

@test "network connect/disconnect while running; --ip is kept across a restart" {
	b network create --subnet 10.231.7.0/24 n1
	b network create n2
	b run -d --name c --network n1 --ip 10.231.7.50 bb:test sleep 600
	run -0 b exec c ip -4 -o addr show eth0
	[[ "$output" == *10.231.7.50/24* ]]
	b network connect --alias other n2 c
	run -0 b exec c ip -o link show eth1
	run -0 b inspect c
	echo "$output" | jq -e '.[0].NetworkSettings.Networks | has("n1") and has("n2")'
	run -0 b run --rm --network n2 bb:test ping -c1 -W2 other
	b network disconnect n2 c
	run ! b exec c ip -o link show eth1
	run -0 b network inspect n2
	echo "$output" | jq -e '.[0].Containers | length == 0'
	b restart -t 1 c
	run -0 b exec c ip -4 -o addr show eth0
	[[ "$output" == *10.231.7.50/24* ]]
	b rm -f c
	assert_net_clean
}

@test "several networks at create: eth0 and eth1 in order, the default route on the first; --mac-address, IPv6, host-gateway" {
	b network create --subnet 10.231.1.0/24 m1
	b network create --ipv6 --subnet 10.231.2.0/24 --subnet fd42:231::/64 m2
	run -0 b run --rm --network m1 --network m2 --mac-address 02:11:22:33:44:55 \
		--add-host gw:host-gateway bb:test sh -c \
		'ip -o addr; ip -o link; ip route; grep -w gw /etc/hosts'
	echo "$output"
	[[ "$output" == *"eth0    inet 10.231.1.2/24"* ]]
	[[ "$output" == *"eth1    inet 10.231.2.2/24"* ]]
	[[ "$output" == *"eth1    inet6 fd42:231::2/64"* ]]
	[[ "$output" == *"default via 10.231.1.1 dev eth0"* ]]
	# the MAC asked for is eth0's; eth1 gets its own
	[[ "$(grep ': eth0' <<<"$output")" == *"link/ether 02:11:22:33:44:55"* ]]
	[[ "$(grep ': eth1' <<<"$output")" != *"02:11:22:33:44:55"* ]]
	grep -q $'^10.231.1.1\tgw$' <<<"$output"
	assert_net_clean
}

@test "bad input: one clear error, nothing made" {
	b network create --subnet 10.231.8.0/24 n3
	run -125 b run --rm --network n3 --ip 10.231.9.5 bb:test true
	echo "$output"
	[[ "$output" == *10.231.9.5* ]]
	run -125 b run --rm --ip 10.231.9.5 bb:test true
	[[ "$output" == *"user specified IP address is supported on user defined networks only"* ]]
	run -125 b run --rm --network nosuch bb:test true
	[[ "$output" == *"network nosuch not found"* ]]
	run -1 b network create --subnet 10.231.8.128/25 n4
	[[ "$output" == *overlaps* ]]
	run -0 b ps -aq
	[ -z "$output" ]
	assert_net_clean
}

@test "kill -9 of a container's monitor: the next command gives back its address and ports" {
	p=$(free_port)
	b network create kn
	b run -d --name k --network kn -p "$p:80" bb:test "${WEB[@]}"
	pid=$(b inspect -f '{{.State.Pid}}' k)
	pkill -9 -f "berth-monitor $(b inspect -f '{{.Id}}' k)"
	kill -9 "$pid"
	sleep 0.2
	run -0 b ps -a --filter name=k --format '{{.Status}}'
	[[ "$output" == Exited* ]]
	run -0 b network inspect kn
	echo "$output" | jq -e '.[0].Containers | length == 0'
	run ! fetch "http://127.0.0.1:$p/"
	# and the address and port are free for the next one
	b rm k
	b run -d --name k2 --network kn -p "$p:80" bb:test "${WEB[@]}"
	sleep 0.3
	[ "$(fetch "http://127.0.0.1:$p/")" = hello-from-web ]
	b rm -f k2
	assert_net_clean
}

@test "kill -9 of berth run -d -p on a user network at any moment: rm -f leaves no lease, port or names" {
	b network create kn2
	p=$(free_port)
	for i in $(seq 0 3 36); do
		b run -d --name k$i --network kn2 -p "$p:80" bb:test "${WEB[@]}" >/dev/null 2>&1 &
		pid=$!
		sleep "0.00$i"
		kill -9 $pid 2>/dev/null || true
		wait $pid 2>/dev/null || true
		# one of them may hold the port; the others are refused it
		b ps -aq | xargs -r "$BERTH" --root "$ROOT" --runroot "$RUN" --bridge "$BRIDGE" rm -f >/dev/null
	done
	assert_net_clean
	# nothing tagged with this test's containers or a lease is left in the names
	[ -z "$(grep -v '^$' "$RUN/networks/$(b network inspect -f '{{.Id}}' kn2)/names" 2>/dev/null)" ]
	# the port is free for the next one, and answers
	b run -d --name k --network kn2 -p "$p:80" bb:test "${WEB[@]}"
	sleep 0.3
	[ "$(fetch "http://127.0.0.1:$p/")" = hello-from-web ]
	b rm -f k
	run ! fetch "http://127.0.0.1:$p/"
}

@test "system reset leaves nothing of Berth's: bridges, rules, the table, responders (in a network namespace of the test's own)" {
	run -0 env BERTH="$BERTH" ROOT="$ROOT" RUN="$RUN" BRIDGE="$BRIDGE" unshare -n sh -c '
		ip link set lo up
		b() { "$BERTH" --root "$ROOT" --runroot "$RUN" --bridge "$BRIDGE" "$@"; }
		b network create n1 >/dev/null
		b run -d --name w --network n1 -p 18080:80 bb:test sleep 600 >/dev/null
		b run -d --name d -p 18081:80 bb:test sleep 600 >/dev/null
		echo "before: $(ip -o link show type bridge | wc -l) bridges, $(nft list tables | wc -l) tables"
		b system reset -f
		# the veths go with their namespaces, which the kernel frees a little later
		for i in $(seq 40); do [ "$(ip -o link show type veth | wc -l)" = 0 ] && break; sleep 0.05; done
		echo "after: $(ip -o link show type bridge | wc -l) bridges, $(nft list tables | wc -l) tables, $(ip -o link show type veth | wc -l) veths"
		echo "responders: $(pgrep -fc "berth-dns .*$RUN/")"
	'
	echo "$output"
	[[ "$output" == *"responders: 0"* ]]
	[[ "$output" == *"before: 2 bridges, 1 tables"* ]]
	[[ "$output" == *"after: 0 bridges, 0 tables, 0 veths"* ]]
	[ ! -e "$ROOT" ] && [ ! -e "$RUN" ]
}

@test "outbound NAT: apt-get update in a Debian container on the default bridge" {
	rootfs=$(debian_rootfs) || skip "no Debian rootfs: $rootfs"
	tar -C "$rootfs" -c . | b import - deb:test >/dev/null
	run -0 timeout 120 "$BERTH" --root "$ROOT" --runroot "$RUN" --bridge "$BRIDGE" run --rm deb:test apt-get update
	echo "$output" | tail -3
	[[ "$output" == *"Reading package lists"* ]]
	assert_net_clean
}
