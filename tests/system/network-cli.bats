#!/usr/bin/env bats
# network-cli.bats - `berth network create|ls|inspect|rm|prune` as a docker
# user drives them, each test in its own --root and --runroot. Records only:
# no bridge or rule is made by these commands.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
BERTH=$BUILD/src/cli/berth

setup() {
	T=$(mktemp -d /tmp/berth-net-test.XXXXXX)
}

teardown() {
	rm -rf "$T"
}

b() {
	"$BERTH" --root "$T/root" --runroot "$T/run" "$@"
}

# A container's lease written as the start path would (connect is not a
# command yet): network id, address, container id.
lease() {
	python3 - "$T/root/berth.db" "$1" "$2" "$3" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("INSERT INTO leases(network_id, address, family, container_id, endpoint_id) VALUES(?,?,4,?,?)",
           (sys.argv[2], sys.argv[3], sys.argv[4], "e" * 64))
db.commit()
PY
}

@test "network ls: the predefined networks on a new root, docker's columns" {
	run -0 b network ls
	[ "${lines[0]}" = "NETWORK ID     NAME      DRIVER    SCOPE" ]
	[[ "${lines[1]}" =~ ^[0-9a-f]{12}\ {3}bridge\ {4}bridge\ {4}local$ ]]
	[[ "${lines[2]}" =~ ^[0-9a-f]{12}\ {3}host\ {6}host\ {6}local$ ]]
	[[ "${lines[3]}" =~ ^[0-9a-f]{12}\ {3}none\ {6}null\ {6}local$ ]]
	[ "${#lines[@]}" -eq 4 ]
	# The same ones the next time (made once).
	first=$(b network ls -q --no-trunc)
	[ "$(b network ls -q --no-trunc)" = "$first" ]
	[ "$(echo "$first" | wc -l)" -eq 3 ]
	run -0 b network inspect -f '{{.Driver}} {{index .Options "com.docker.network.bridge.name"}}' bridge
	[ "$output" = "bridge berth0" ]
	subnet=$(b network inspect bridge | jq -r '.[0].IPAM.Config[0].Subnet')
	[[ "$subnet" =~ ^(172\.(1[89]|2[0-9]|3[01])\.0\.0/16|192\.168\.[0-9]+\.0/20)$ ]]
}

@test "network create: prints the id; inspect shows docker's fields" {
	run -0 b network create --subnet 10.77.0.0/16 --ip-range 10.77.3.0/24 --gateway 10.77.0.254 \
		--label env=test --label x= -o com.docker.network.bridge.name=brtest --internal n1
	[[ "$output" =~ ^[0-9a-f]{64}$ ]]
	id=$output
	run -0 b network inspect n1
	echo "$output" | jq -e --arg id "$id" '
		length == 1 and (.[0] | keys_unsorted == ["Name","Id","Created","Scope","Driver","EnableIPv6","IPAM","Internal","Attachable","Ingress","ConfigFrom","ConfigOnly","Containers","Options","Labels"])
		and .[0].Id == $id and .[0].Name == "n1" and .[0].Driver == "bridge" and .[0].Scope == "local"
		and .[0].Internal == true and .[0].EnableIPv6 == false
		and .[0].IPAM.Driver == "default"
		and .[0].IPAM.Config == [{"Subnet":"10.77.0.0/16","IPRange":"10.77.3.0/24","Gateway":"10.77.0.254"}]
		and .[0].Labels == {"env":"test","x":""} and .[0].Containers == {}
		and .[0].Options == {"com.docker.network.bridge.name":"brtest"}
		and (.[0].Created | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$"))'
	# By id prefix, and an automatic subnet with its first host as gateway.
	run -0 b network inspect -f '{{.Name}}' "${id:0:8}"
	[ "$output" = n1 ]
	b network create n2
	run -0 b network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}}' n2
	[[ "$output" =~ ^([0-9.]+)\.0/(16|20)\ ([0-9.]+)\.1$ ]]
	run -1 b network inspect n2 nope
	[[ "$output" == *"network nope not found"* ]]
}

@test "network create: IPv6 needs a subnet; dual-stack config" {
	run -1 b network create --ipv6 v6a
	[[ "$output" == "berth: network v6a: IPv6 needs an IPv6 --subnet"* ]]
	run -0 b network create --ipv6 --subnet 10.78.0.0/24 --subnet fd00:78::/64 --gateway fd00:78::fe v6b
	run -0 b network inspect -f '{{.EnableIPv6}} {{json .IPAM.Config}}' v6b
	[ "$output" = 'true [{"Subnet":"10.78.0.0/24","Gateway":"10.78.0.1"},{"Subnet":"fd00:78::/64","Gateway":"fd00:78::fe"}]' ]
}

@test "network create: overlapping subnets, bad gateway and ip-range, name conflicts are refused" {
	b network create --subnet 10.80.0.0/16 a
	run -1 b network create --subnet 10.80.7.0/24 b
	[ "$output" = "berth: Pool overlaps with other one on this address space: 10.80.7.0/24" ]
	run -1 b network create --subnet 10.0.0.0/8 b
	[[ "$output" == *"Pool overlaps with other one on this address space"* ]]
	run -1 b network create --subnet 10.81.0.0/16 --gateway 10.82.0.1 b
	[ "$output" = "berth: no matching subnet for gateway 10.82.0.1" ]
	run -1 b network create --subnet 10.81.0.0/16 --gateway 10.81.255.255 b
	[ "$output" = "berth: invalid gateway 10.81.255.255: not a host address of subnet 10.81.0.0/16" ]
	run -1 b network create --subnet 10.81.0.0/16 --ip-range 10.90.0.0/24 b
	[ "$output" = "berth: no matching subnet for range 10.90.0.0/24" ]
	run -1 b network create --subnet 10.81.0.0/24 --ip-range 10.81.0.0/16 b
	[ "$output" = "berth: invalid ip-range 10.81.0.0/16: not inside subnet 10.81.0.0/24" ]
	run -1 b network create --gateway 10.81.0.1 b
	[ "$output" = "berth: every ip-range or gateway must have a corresponding subnet" ]
	run -1 b network create --subnet 10.81.1.0/16 b
	[ "$output" = "berth: invalid subnet 10.81.1.0/16: it should be 10.81.0.0/16" ]
	run -1 b network create a
	[ "$output" = "berth: network with name a already exists" ]
	for n in bridge host none; do
		run -1 b network create "$n"
		[ "$output" = "berth: network with name $n already exists" ]
	done
	run -1 b network create -d overlay b
	[[ "$output" == 'berth: plugin "overlay" not found'* ]]
	run -1 b network create -o com.docker.network.bridge.name=waytoolongbridge0 b
	[[ "$output" == *'"waytoolongbridge0"'*'15 characters'* ]]
	run -125 b network create
	run -125 b network create -o novalue b
	# Nothing half-made by the refusals.
	run -0 b network ls -q -f type=custom
	[ "$(echo "$output" | wc -l)" -eq 1 ]
}

@test "network ls: -q, --no-trunc, filters, --format" {
	ida=$(b network create --label env=prod aa)
	idb=$(b network create bb)
	run -0 b network ls -q -f type=custom
	[ "$output" = "${ida:0:12}
${idb:0:12}" ]
	run -0 b network ls -q --no-trunc -f name=aa
	[ "$output" = "$ida" ]
	run -0 b network ls -q -f "id=${idb:0:5}"
	[ "$output" = "${idb:0:12}" ]
	run -0 b network ls --format '{{.Name}}' -f label=env=prod
	[ "$output" = aa ]
	run -0 b network ls --format '{{.Name}}' -f type=builtin
	[ "$output" = $'bridge\nhost\nnone' ]
	run -0 b network ls --format '{{.Name}}' -f driver=null
	[ "$output" = none ]
	run -0 b network ls --format '{{.Name}}' -f dangling=true
	[ "$output" = $'aa\nbb' ]
	run -0 b network ls --format '{{.Name}}:{{.Labels}}:{{.IPv6}}' -f type=custom
	[ "$output" = $'aa:env=prod:false\nbb::false' ]
	run -0 b network ls --format json -f name=aa
	[ "$(echo "$output" | jq -r '.Name + " " + .Driver + " " + .Scope')" = "aa bridge local" ]
	run -125 b network ls -f bogus=1
}

@test "network rm: removes by name or id; predefined and in-use networks stay" {
	id=$(b network create gone)
	run -0 b network rm gone
	[ "$output" = gone ]
	run -1 b network rm gone
	[ "$output" = "berth: network gone not found" ]
	run -0 b network rm -f gone
	id=$(b network create byid)
	run -0 b network remove "${id:0:12}"
	for n in bridge host none; do
		run -1 b network rm "$n"
		[ "$output" = "berth: $n is a pre-defined network and cannot be removed" ]
	done
	id=$(b network create --subnet 10.88.0.0/24 used)
	lease "$id" 10.88.0.2 c0ffee
	run -1 b network rm used
	[ "$output" = "berth: error while removing network: network used id $id has active endpoints" ]
	run -0 b network inspect used
	[ "$(echo "$output" | jq -c '.[0].Containers')" = '{"c0ffee":{"Name":"","EndpointID":"'"$(printf 'e%.0s' {1..64})"'","MacAddress":"","IPv4Address":"10.88.0.2/24","IPv6Address":""}}' ]
	run -0 b network ls -q -f dangling=true
	[ -z "$output" ]
}

@test "network prune: unused custom networks only, label filters, docker's output" {
	b network create --label keep=1 k1 >/dev/null
	b network create p1 >/dev/null
	id=$(b network create used)
	lease "$id" "$(b network inspect used | jq -r '.[0].IPAM.Config[0].Gateway' | sed 's/1$/9/')" c1
	run -0 b network prune -f --filter label!=keep
	[ "$output" = $'Deleted Networks:\np1' ]
	run -0 b network prune -f
	[ "$output" = $'Deleted Networks:\nk1' ]
	run -0 b network prune -f
	[ -z "$output" ]
	run -0 b network ls --format '{{.Name}}'
	[ "$output" = $'bridge\nhost\nnone\nused' ]
	run -0 b network prune <<<"n"
	[[ "$output" == "WARNING! This will remove all custom networks not used by at least one container."* ]]
}

@test "--bridge and --bip name and address the bridge network when it is first made" {
	run -0 b --bridge berthtest0 --bip 10.99.0.1/24 network inspect -f '{{index .Options "com.docker.network.bridge.name"}} {{json .IPAM.Config}}' bridge
	[ "$output" = 'berthtest0 [{"Subnet":"10.99.0.0/24","Gateway":"10.99.0.1"}]' ]
	# Made once: later values do not change it.
	run -0 b --bip 10.98.0.1/24 network inspect -f '{{json .IPAM.Config}}' bridge
	[ "$output" = '[{"Subnet":"10.99.0.0/24","Gateway":"10.99.0.1"}]' ]
	rm -rf "$T/root"
	run -1 b --bip nonsense network ls
	[[ "$output" == *"invalid --bip nonsense"* ]]
}

@test "network create: the automatic subnet skips the host's routes (in a network namespace of its own)" {
	command -v unshare >/dev/null || skip "no unshare"
	run -0 unshare -n sh -ec '
		ip link set lo up
		ip route add 172.18.0.0/16 dev lo
		ip route add 172.19.128.0/24 dev lo
		"$0" --root "$1/root" --runroot "$1/run" network create auto >/dev/null
		"$0" --root "$1/root" --runroot "$1/run" network ls --format "{{.Name}}" -f type=custom
		for n in bridge auto; do
			"$0" --root "$1/root" --runroot "$1/run" network inspect "$n"
		done' "$BERTH" "$T"
	[ "${lines[0]}" = auto ]
	subnets=$(echo "$output" | sed 1d | jq -r '.[0].IPAM.Config[0].Subnet' | tr '\n' ' ')
	[ "$subnets" = "172.20.0.0/16 172.21.0.0/16 " ]
}
