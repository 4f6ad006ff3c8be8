#!/usr/bin/env bats
# nft.bats - net/nft.c through tests/tools/nft-tool, in network namespaces
# this file makes: the machine's own ruleset and interfaces are never touched.
#
# Topology, made again for each test:
#   $H   the "host": bridge brt0 172.30.0.1/16, out0 10.99.0.1/24; the tool runs here
#   $O   "outside": 10.99.0.2/24, an httpd answering "hi-out"; no route to 172.30/16
#   $C1  container 172.30.0.2 on brt0: httpd on 80 ("hi-c1"), udp echo on 53
#   $C2  container 172.30.0.3 on brt0: httpd on 80 ("hi-c2")
# Each call's cost (nft-tool prints it) is echoed to the TAP output; nothing
# asserts on time.

load helpers
bats_require_minimum_version 1.5.0

NFT_TOOL=${BERTH_BUILD_DIR:-$SRCROOT/build}/tests/tools/nft-tool
NETID=a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90
CTR1=c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1
CTR2=c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2c2

setup() {
	common_setup
	[ -x "$NFT_TOOL" ] || skip "nft-tool not built ($NFT_TOOL)"
	P=berth-nft-$$-$BATS_TEST_NUMBER
	H=$P-h O=$P-o C1=$P-c1 C2=$P-c2 C3=$P-c3
	NSS=("$H" "$O" "$C1" "$C2")
	PIDS=()
	for ns in "${NSS[@]}"; do
		ip netns add "$ns"
		ip -n "$ns" link set lo up
	done
	ip -n "$H" link add brt0 type bridge
	ip -n "$H" addr add 172.30.0.1/16 dev brt0
	ip -n "$H" link set brt0 up
	ip -n "$H" link add out0 type veth peer name eth0 netns "$O"
	ip -n "$H" addr add 10.99.0.1/24 dev out0
	ip -n "$H" link set out0 up
	ip -n "$O" addr add 10.99.0.2/24 dev eth0
	ip -n "$O" link set eth0 up
	local i=2
	for c in "$C1" "$C2"; do
		ip -n "$H" link add "v$i" type veth peer name eth0 netns "$c"
		ip -n "$H" link set "v$i" master brt0 up
		# A container reaching its own published port needs the frame sent
		# back out of the port it came in by (Berth's netlink side sets this).
		ip -n "$H" link set "v$i" type bridge_slave hairpin on
		ip -n "$c" addr add "172.30.0.$i/16" dev eth0
		ip -n "$c" link set eth0 up
		ip -n "$c" route add default via 172.30.0.1
		i=$((i + 1))
	done
	serve_http "$O" hi-out
	serve_http "$C1" hi-c1
	serve_http "$C2" hi-c2
	cat >"$TEST_TMP/udp.py" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		if sys.argv[1] == "serve":
		    s.bind(("0.0.0.0", int(sys.argv[2])))
		    while True:
		        d, a = s.recvfrom(512)
		        s.sendto(b"udp-" + d, a)
		s.settimeout(2)
		s.sendto(b"ping", (sys.argv[2], int(sys.argv[3])))
		print(s.recvfrom(512)[0].decode())
	EOF
	ip netns exec "$C1" python3 "$TEST_TMP/udp.py" serve 53 </dev/null >/dev/null 2>&1 3>&- &
	PIDS+=($!)
	wait_listen "$O" t 80
	wait_listen "$C1" t 80
	wait_listen "$C2" t 80
	wait_listen "$C1" u 53
}

teardown() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	# The table and the veths go with the namespaces.
	for ns in "${NSS[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	common_teardown
}

# A second network: bridge brt1 10.88.0.1/24 in $H, container $C3 10.88.0.2
# with an httpd answering "hi-c3".
second_network() {
	NSS+=("$C3")
	ip netns add "$C3"
	ip -n "$C3" link set lo up
	ip -n "$H" link add brt1 type bridge
	ip -n "$H" addr add 10.88.0.1/24 dev brt1
	ip -n "$H" link set brt1 up
	ip -n "$H" link add v4 type veth peer name eth0 netns "$C3"
	ip -n "$H" link set v4 master brt1 up
	ip -n "$C3" addr add 10.88.0.2/24 dev eth0
	ip -n "$C3" link set eth0 up
	ip -n "$C3" route add default via 10.88.0.1
	serve_http "$C3" hi-c3
	wait_listen "$C3" t 80
}

# wait_listen NS t|u PORT: until a socket listens there (bounded, 5 s).
wait_listen() {
	local i
	for i in $(seq 50); do
		ip netns exec "$1" ss -Hln"$2" "sport = :$3" | grep -q . && return 0
		sleep 0.1
	done
	echo "nothing listens on $2 $3 in $1" >&2
	return 1
}

# serve_http NS TEXT: busybox httpd on port 80 in NS answering TEXT.
serve_http() {
	mkdir -p "$TEST_TMP/www-$1"
	echo "$2" >"$TEST_TMP/www-$1/index.html"
	ip netns exec "$1" busybox httpd -f -p 80 -h "$TEST_TMP/www-$1" </dev/null >/dev/null 2>&1 3>&- &
	PIDS+=($!)
}

# tool ARGS...: nft-tool in $H; its timing line goes to the TAP output.
tool() {
	local rc=0
	ip netns exec "$H" timeout 20 "$NFT_TOOL" "$@" 2>"$TEST_TMP/tool.err" || rc=$?
	grep ' ms$' "$TEST_TMP/tool.err" | sed 's/^/# /' >&3 || true
	grep -v ' ms$' "$TEST_TMP/tool.err" >&2 || true
	return $rc
}

# get NS URL: the body, bounded (by timeout(1): busybox 1.35's wget -T crashes).
get() {
	ip netns exec "$1" timeout 5 busybox wget -q -O - "$2"
}

udp() {
	ip netns exec "$1" timeout 10 python3 "$TEST_TMP/udp.py" send "$2" "$3"
}

net_up() {
	tool net-add "$NETID" brt0 172.30.0.0/16 fd00:30::/64 "$@"
}

@test "network add: masquerade for the subnet, sysctls set, idempotent" {
	net_up
	run ip netns exec "$H" nft list set inet berth masq4
	[[ "$output" == *"172.30.0.0/16 comment \"berth:$NETID\""* ]]
	run ip netns exec "$H" nft list set inet berth masq6
	[[ "$output" == *"fd00:30::/64 comment \"berth:$NETID\""* ]]
	run ip netns exec "$H" nft list chain inet berth postrouting
	[[ "$output" == *"ip saddr @masq4 masquerade"* ]]
	run -0 ip netns exec "$H" nft list chain inet berth input
	[[ "$output" == *"iifname @bridges meta l4proto { tcp, udp } th dport 53 fib daddr . iif type local accept"* ]]
	[ "$(ip netns exec "$H" cat /proc/sys/net/ipv4/ip_forward)" = 1 ]
	[ "$(ip netns exec "$H" cat /proc/sys/net/ipv4/conf/brt0/route_localnet)" = 1 ]
	before=$(ip netns exec "$H" nft list ruleset)
	net_up
	[ "$(ip netns exec "$H" nft list ruleset)" = "$before" ]
}

@test "outbound NAT: a container reaches the outside, which has no route back to it" {
	run get "$C2" http://10.99.0.2/
	[ "$status" -ne 0 ] # a new namespace does not forward
	net_up
	run -0 get "$C2" http://10.99.0.2/
	[ "$output" = hi-out ]
}

@test "published tcp port: from outside, from the host on 127.0.0.1, hairpin from a container" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	run -0 get "$H" http://127.0.0.1:8080/
	[ "$output" = hi-c1 ]
	run -0 get "$H" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	run -0 get "$C2" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	run -0 get "$C1" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	# Adding the same ports again changes nothing.
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
}

@test "ports added again by the same container: new ones added, a changed target mended" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.3:80 tcp:127.0.0.1:8081:172.30.0.3:80
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c2 ]
	# As after a restart with another address whose ports were not removed.
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80 tcp:127.0.0.1:8081:172.30.0.2:80 tcp::8083:172.30.0.2:80
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	run -0 get "$H" http://127.0.0.1:8081/
	[ "$output" = hi-c1 ]
	run -0 get "$O" http://10.99.0.1:8083/
	[ "$output" = hi-c1 ]
	tool ports-rm "$CTR1"
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *"berth:$CTR1"* ]]
}

@test "published port on 127.0.0.1 only: the host reaches it, the outside does not" {
	net_up
	tool ports-add "$CTR1" tcp:127.0.0.1:8081:172.30.0.2:80
	run -0 get "$H" http://127.0.0.1:8081/
	[ "$output" = hi-c1 ]
	run get "$O" http://10.99.0.1:8081/
	[ "$status" -ne 0 ]
}

@test "published udp port: from outside and from the host" {
	net_up
	tool ports-add "$CTR1" udp::5353:172.30.0.2:53
	run -0 udp "$O" 10.99.0.1 5353
	[ "$output" = udp-ping ]
	run -0 udp "$H" 127.0.0.1 5353
	[ "$output" = udp-ping ]
}

@test "ports remove takes exactly that container's entries" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80 tcp:127.0.0.1:8081:172.30.0.2:80 udp::5353:172.30.0.2:53
	tool ports-add "$CTR2" tcp::8082:172.30.0.3:80
	run -0 get "$O" http://10.99.0.1:8082/
	[ "$output" = hi-c2 ]
	tool ports-rm "$CTR1"
	run get "$O" http://10.99.0.1:8080/
	[ "$status" -ne 0 ]
	run get "$H" http://127.0.0.1:8081/
	[ "$status" -ne 0 ]
	run -0 get "$O" http://10.99.0.1:8082/
	[ "$output" = hi-c2 ]
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *172.30.0.2* ]]
	[[ "$output" != *"berth:$CTR1"* ]]
	[[ "$output" == *"tcp . 8082 comment \"berth:$CTR2\" : 172.30.0.3 . 80"* ]]
	# Again: nothing left to remove is not an error.
	tool ports-rm "$CTR1"
	tool ports-rm "$CTR2"
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *172.30.0.3* ]]
}

@test "a port another container holds is refused, naming the port, and nothing of the call is added" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	run tool ports-add "$CTR2" tcp::8082:172.30.0.3:80 tcp::8080:172.30.0.3:80
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot add port 8080/tcp: already published by another container"* ]]
	run get "$O" http://10.99.0.1:8082/
	[ "$status" -ne 0 ]
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	run tool ports-add "$CTR2" tcp::8082:172.30.0.3:80 tcp::8082:172.30.0.3:81
	[ "$status" -eq 1 ]
	[[ "$output" == *"cannot add port 8082/tcp: published twice"* ]]
}

@test "many processes publishing and unpublishing at once keep exactly their own entries" {
	net_up
	local i pids=()
	for i in $(seq 10 39); do
		ip netns exec "$H" timeout 20 "$NFT_TOOL" ports-add "ctr$i" "tcp::80$i:172.30.1.$i:80" \
			"udp:127.0.0.1:80$i:172.30.1.$i:53" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run -0 ip netns exec "$H" nft list ruleset
	[ "$(grep -c 'comment "berth:ctr' <<<"$output")" -eq 60 ]
	pids=()
	for i in $(seq 10 2 39); do
		ip netns exec "$H" timeout 20 "$NFT_TOOL" ports-rm "ctr$i" 2>/dev/null &
		pids+=($!)
	done
	for i in "${pids[@]}"; do wait "$i"; done
	run -0 ip netns exec "$H" nft list ruleset
	[ "$(grep -c 'comment "berth:ctr' <<<"$output")" -eq 30 ]
	[[ "$output" != *'"berth:ctr10"'* ]]
	[[ "$output" == *'"berth:ctr11"'* ]]
}

@test "cost of ports add/remove with a warm context and 1000 containers published (printed, not asserted)" {
	net_up
	run -0 --separate-stderr ip netns exec "$H" timeout 120 "$NFT_TOOL" bench 1000
	echo "# $output" >&3
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *berth:bench* ]]
}

@test "ports add without a network says so" {
	run tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	[ "$status" -eq 1 ]
	[[ "$output" == *"no Berth network rules"* ]]
}

@test "network remove drops the network's entries; reset leaves no table" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	tool net-rm "$NETID"
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *"berth:$NETID"* ]]
	[[ "$output" != *brt0* ]]
	tool net-rm "$NETID"
	tool reset
	run ip netns exec "$H" nft list table inet berth
	[ "$status" -ne 0 ]
	[ -z "$(ip netns exec "$H" nft list ruleset)" ]
	tool reset
}

@test "host FORWARD policy drop (dockerd's iptables-nft): bridge traffic still flows; the tagged rule goes with the network" {
	ip netns exec "$H" nft -f - <<-'EOF'
		table ip filter {
			chain FORWARD { type filter hook forward priority 0; policy drop; }
		}
		table ip6 filter {
			chain FORWARD { type filter hook forward priority 0; policy drop; }
		}
	EOF
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	run -0 ip netns exec "$H" nft list chain ip filter FORWARD
	[[ "$output" == *"comment \"berth:$NETID\""* ]]
	run -0 ip netns exec "$H" nft list chain ip6 filter FORWARD
	[[ "$output" == *"oifname \"brt0\" counter packets 0 bytes 0 accept comment \"berth:$NETID\""* ]]
	run -0 get "$C2" http://10.99.0.2/
	[ "$output" = hi-out ]
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	# Added once, however often the network is added.
	net_up
	[ "$(ip netns exec "$H" nft list chain ip filter FORWARD | grep -c "berth:$NETID")" -eq 2 ]
	tool net-rm "$NETID"
	run -0 ip netns exec "$H" nft list chain ip filter FORWARD
	[[ "$output" != *berth:* ]]
	[[ "$output" == *"policy drop"* ]]
	run get "$C2" http://10.99.0.2/
	[ "$status" -ne 0 ]
	net_up
	tool reset
	run -0 ip netns exec "$H" nft list chain ip filter FORWARD
	[[ "$output" != *berth:* ]]
	run -0 ip netns exec "$H" nft list chain ip6 filter FORWARD
	[[ "$output" != *berth:* ]]
}

@test "iptables-nft, as dockerd drives it, reads Berth's FORWARD rules as its own and keeps working" {
	command -v iptables-nft >/dev/null || skip "iptables-nft not installed"
	ip netns exec "$H" iptables-nft -P FORWARD DROP
	net_up
	run -0 ip netns exec "$H" iptables-nft -S FORWARD
	[[ "$output" == *"-A FORWARD -i brt0 -m comment --comment \"berth:$NETID\" -j ACCEPT"* ]]
	ip netns exec "$H" iptables-nft -I FORWARD -i eth9 -j ACCEPT
	run -0 get "$C2" http://10.99.0.2/
	[ "$output" = hi-out ]
	tool net-rm "$NETID"
	run -0 ip netns exec "$H" iptables-nft -S FORWARD
	[[ "$output" != *berth:* ]]
	[[ "$output" == *"-A FORWARD -i eth9 -j ACCEPT"* ]]
}

@test "a host routing to a container's address reaches only the published ports" {
	net_up
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	ip -n "$O" route add 172.30.0.0/16 via 10.99.0.1
	run get "$O" http://172.30.0.2/
	[ "$status" -ne 0 ]
	run -0 get "$O" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
}

@test "two networks are isolated from each other; a published port is reachable from the other" {
	second_network
	net_up
	tool net-add b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2 brt1 10.88.0.0/24 -
	run get "$C3" http://172.30.0.2/
	[ "$status" -ne 0 ]
	run get "$C1" http://10.88.0.2/
	[ "$status" -ne 0 ]
	tool ports-add "$CTR1" tcp::8080:172.30.0.2:80
	run -0 get "$C3" http://10.99.0.1:8080/
	[ "$output" = hi-c1 ]
	# Both still reach the outside.
	run -0 get "$C3" http://10.99.0.2/
	[ "$output" = hi-out ]
	run -0 get "$C1" http://10.99.0.2/
	[ "$output" = hi-out ]
}

@test "a subnet another Berth network has is refused, naming it, and nothing of it is made" {
	net_up
	ip -n "$H" link add brt1 type bridge
	local id2=b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2
	run tool net-add "$id2" brt1 172.30.0.0/16 -
	[ "$status" -eq 1 ]
	[[ "$output" == *"subnet 172.30.0.0/16 is Berth network a1b2c3d4e5f6's already"* ]]
	run tool net-add "$id2" brt1 172.30.5.0/24 -
	[ "$status" -eq 1 ]
	[[ "$output" == *"its subnet overlaps another Berth network's"* ]]
	run -0 ip netns exec "$H" nft list ruleset
	[[ "$output" != *brt1* ]]
	run tool net-add "$id2" nosuchbr 10.9.0.0/24 -
	[ "$status" -eq 1 ]
	[[ "$output" == *"route_localnet: No such file or directory"* ]]
}

@test "internal network: traffic stays within the bridge" {
	net_up internal
	run -0 get "$C2" http://172.30.0.2/
	[ "$output" = hi-c1 ]
	run get "$C2" http://10.99.0.2/
	[ "$status" -ne 0 ]
	run -0 ip netns exec "$H" nft list set inet berth masq4
	[[ "$output" != *172.30.0.0* ]]
}
