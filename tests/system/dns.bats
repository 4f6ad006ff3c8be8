#!/usr/bin/env bats
# dns.bats - berth-dns as the engine runs it, alone on loopback: names from the
# names file (A, AAAA, PTR, any case), other names forwarded to a fake
# upstream resolver, SERVFAIL when the upstream is down, the names file
# replaced while it runs, TCP, one instance per lock, SIGTERM.
#
# Queries are built and read by a small python3 client (dnsq.py below), so the
# test needs no dig on the machine.

bats_require_minimum_version 1.5.0

BUILD=${BERTH_BUILD_DIR:-$BATS_TEST_DIRNAME/../../build}
DNS=${BERTH_DNS:-$BUILD/src/dns/berth-dns}

setup() {
	T=$(mktemp -d /tmp/berth-test-dns.XXXXXX)
	write_tools
	printf '# test network\n10.88.0.2 web web-alias\n\n10.88.0.3 db  # the database\nfd00::3 db\n' >"$T/names"
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$T"
}

write_tools() {
	# dnsq.py PORT [--tcp] [--raw HEX | TYPE NAME]: one query to 127.0.0.1:PORT;
	# prints "rcode=R tc=T an=N id=ok|bad" then one line an answer ("A 1.2.3.4").
	cat >"$T/dnsq.py" <<-'EOF'
		import socket, struct, sys, random, ipaddress
		args, tcp, raw = [], False, None
		it = iter(sys.argv[1:])
		for a in it:
		    if a == "--tcp": tcp = True
		    elif a == "--raw": raw = bytes.fromhex(next(it))
		    else: args.append(a)
		port = int(args[0])
		types = {"A": 1, "PTR": 12, "MX": 15, "AAAA": 28, "ANY": 255}
		qid = random.randrange(65536)
		if raw is None:
		    qtype, name = types[args[1]], args[2]
		    qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"
		    msg = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname + struct.pack(">HH", qtype, 1)
		else:
		    msg = raw
		    qid = struct.unpack(">H", raw[:2])[0]
		if tcp:
		    s = socket.create_connection(("127.0.0.1", port), timeout=8)
		    s.sendall(struct.pack(">H", len(msg)) + msg)
		    def rd(n):
		        b = b""
		        while len(b) < n:
		            c = s.recv(n - len(b))
		            if not c: sys.exit("connection closed")
		            b += c
		        return b
		    r = rd(struct.unpack(">H", rd(2))[0])
		else:
		    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		    s.settimeout(8)
		    s.sendto(msg, ("127.0.0.1", port))
		    r, _ = s.recvfrom(65535)
		def name_at(o):
		    labels, jumps, end = [], 0, None
		    while True:
		        n = r[o]
		        if n >= 0xc0:
		            if end is None: end = o + 2
		            o = ((n & 0x3f) << 8) | r[o + 1]; jumps += 1
		            assert jumps < 20
		            continue
		        if n == 0:
		            return ".".join(labels), (end if end is not None else o + 1)
		        labels.append(r[o + 1:o + 1 + n].decode()); o += 1 + n
		rid, fl, qd, an, ns, ar = struct.unpack(">HHHHHH", r[:12])
		print("rcode=%d tc=%d an=%d id=%s" % (fl & 15, (fl >> 9) & 1, an, "ok" if rid == qid else "bad"))
		o = 12
		for _ in range(qd):
		    _, o = name_at(o); o += 4
		for _ in range(an):
		    _, o = name_at(o)
		    t, c, ttl, rl = struct.unpack(">HHIH", r[o:o + 10]); o += 10
		    rd_ = r[o:o + rl]
		    if t == 1: print("A", ipaddress.IPv4Address(rd_))
		    elif t == 28: print("AAAA", ipaddress.IPv6Address(rd_))
		    elif t == 12: print("PTR", name_at(o)[0])
		    else: print("TYPE%d" % t)
		    o += rl
	EOF
	# fakeup.py PORTFILE [ADDR PORT]: a resolver on ADDR:PORT (default a free
	# port of 127.0.0.1; the port written to PORTFILE) answering every
	# question with A 192.0.2.77, over UDP and TCP. With FAKE_TC=1 its UDP
	# replies are truncated (TC, no answer): the answer is only over TCP.
	cat >"$T/fakeup.py" <<-'EOF'
		import os, socket, struct, sys, threading
		a = sys.argv[2:] or ["127.0.0.1", "0"]
		u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		u.bind((a[0], int(a[1])))
		port = u.getsockname()[1]
		t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
		t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		t.bind((a[0], port))
		t.listen(8)
		tc = os.environ.get("FAKE_TC") == "1"
		def answer(q, full):
		    o = 12
		    while q[o]: o += 1 + q[o]
		    question = q[12:o + 5]
		    qid = struct.unpack(">H", q[:2])[0]
		    if not full:
		        return struct.pack(">HHHHHH", qid, 0x8380, 1, 0, 0, 0) + question
		    r = struct.pack(">HHHHHH", qid, 0x8180, 1, 1, 0, 0)
		    return r + question + struct.pack(">HHHIH", 0xc00c, 1, 1, 60, 4) + bytes([192, 0, 2, 77])
		def tcp_loop():
		    while True:
		        c, _ = t.accept()
		        f = c.makefile("rb")
		        n = struct.unpack(">H", f.read(2))[0]
		        r = answer(f.read(n), True)
		        c.sendall(struct.pack(">H", len(r)) + r)
		        c.close()
		threading.Thread(target=tcp_loop, daemon=True).start()
		open(sys.argv[1] + ".tmp", "w").write(str(port))
		os.rename(sys.argv[1] + ".tmp", sys.argv[1])
		while True:
		    q, addr = u.recvfrom(4096)
		    u.sendto(answer(q, not tc), addr)
	EOF
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_upstream [ADDR PORT]: the fake resolver (default: a free port of
# 127.0.0.1); its port in $UP. Fails if it cannot bind.
start_upstream() {
	python3 "$T/fakeup.py" "$T/up.port" "$@" &
	local pid=$!
	PIDS+=("$pid")
	local i
	for i in $(seq 50); do
		[ -s "$T/up.port" ] && break
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	UP=$(cat "$T/up.port")
}

# start_dns ARGS...: berth-dns on 127.0.0.1:$PORT with this test's names and
# lock; returns once it answers.
start_dns() {
	PORT=$(free_port)
	"$DNS" --listen "127.0.0.1:$PORT" --names "$T/names" --lock "$T/lock" "$@" &
	DNS_PID=$!
	PIDS+=("$DNS_PID")
	local i
	for i in $(seq 50); do
		q A web >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "berth-dns does not answer" >&2
	return 1
}

q() {
	python3 "$T/dnsq.py" "$PORT" "$@"
}

@test "dns: known names answer A, AAAA and PTR, in any case, with or without the dot" {
	start_dns --resolv /dev/null
	run q A web
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 10.88.0.2" ]

	run q A WeB-AlIaS.
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 10.88.0.2" ]

	run q AAAA db
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "AAAA fd00::3" ]

	# A name without an address of that family: NOERROR, no answer.
	run q AAAA web
	[ "${lines[0]}" = "rcode=0 tc=0 an=0 id=ok" ]
	run q MX web
	[ "${lines[0]}" = "rcode=0 tc=0 an=0 id=ok" ]

	run q PTR 3.0.88.10.in-addr.arpa
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "PTR db" ]
	run q PTR 3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa
	[ "${lines[1]}" = "PTR db" ]
}

@test "dns: other names go to the upstream, whose answer comes back with the client's ID" {
	start_upstream
	start_dns --upstream "127.0.0.1:$UP"
	run q A example.org
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 192.0.2.77" ]
	# A reverse name of an address not ours is forwarded as well.
	run q PTR 9.9.88.10.in-addr.arpa
	[ "${lines[1]}" = "A 192.0.2.77" ]
}

@test "dns: without --upstream, the nameserver lines of --resolv are the upstreams" {
	# resolv.conf has no ports: the fake listens on port 53 of a loopback
	# address nothing else uses.
	local addr=127.$((RANDOM % 200 + 20)).$((RANDOM % 250 + 1)).$((RANDOM % 250 + 1))
	start_upstream "$addr" 53 || skip "cannot bind $addr:53"
	printf 'search example\n# nameserver 127.0.0.9\nnameserver %s\noptions ndots:1\n' "$addr" >"$T/resolv.conf"
	start_dns --resolv "$T/resolv.conf"
	run q A example.org
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 192.0.2.77" ]
	# A resolv.conf that names no resolver: SERVFAIL.
	printf 'search example\n' >"$T/resolv.conf.new"
	mv "$T/resolv.conf.new" "$T/resolv.conf"
	run q A example.org
	[ "${lines[0]}" = "rcode=2 tc=0 an=0 id=ok" ]
}

@test "dns: an upstream that does not answer gives SERVFAIL within a few seconds" {
	local dead
	dead=$(free_port)
	start_dns --upstream "127.0.0.1:$dead"
	local t0=$SECONDS
	run q A example.org
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "rcode=2 tc=0 an=0 id=ok" ]
	[ $((SECONDS - t0)) -le 5 ]

	# And one that drops the query (nothing comes back at all): the 2 s timeout.
	python3 -c 'import socket,time,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); open(sys.argv[1],"w").write(str(s.getsockname()[1])); time.sleep(60)' "$T/sink.port" &
	PIDS+=($!)
	sleep 0.5
	kill "$DNS_PID"
	wait "$DNS_PID" || true
	start_dns --upstream "127.0.0.1:$(cat "$T/sink.port")"
	t0=$SECONDS
	run q A example.org
	[ "${lines[0]}" = "rcode=2 tc=0 an=0 id=ok" ]
	[ $((SECONDS - t0)) -le 5 ]
}

@test "dns: a names file replaced while it runs gives the new answer" {
	start_dns --resolv /dev/null
	run q A web
	[ "${lines[1]}" = "A 10.88.0.2" ]
	printf '10.88.0.9 web\n10.88.0.10 cache\n' >"$T/names.new"
	mv "$T/names.new" "$T/names"
	run q A web
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 10.88.0.9" ]
	run q A cache
	[ "${lines[1]}" = "A 10.88.0.10" ]
	# Gone: no names at all, db is forwarded, and with no upstream fails.
	rm "$T/names"
	run q A db
	[ "${lines[0]}" = "rcode=2 tc=0 an=0 id=ok" ]
}

@test "dns: TCP queries are answered, local and forwarded" {
	start_upstream
	start_dns --upstream "127.0.0.1:$UP"
	run q --tcp A web
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 10.88.0.2" ]
	run q --tcp A example.org
	[ "${lines[1]}" = "A 192.0.2.77" ]
}

@test "dns: a TCP client gets over TCP what the upstream truncated over UDP" {
	FAKE_TC=1 start_upstream
	start_dns --upstream "127.0.0.1:$UP"
	run q A big.example
	[ "${lines[0]}" = "rcode=0 tc=1 an=0 id=ok" ]
	run q --tcp A big.example
	[ "${lines[0]}" = "rcode=0 tc=0 an=1 id=ok" ]
	[ "${lines[1]}" = "A 192.0.2.77" ]
}

@test "dns: a UDP answer over 512 bytes is truncated (TC) without EDNS0, and whole over TCP" {
	local i
	for i in $(seq 1 40); do
		echo "10.88.1.$i many"
	done >>"$T/names"
	start_dns --resolv /dev/null
	run q A many
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "rcode=0 tc=1 an="* ]]
	[ "${#lines[@]}" -le 31 ]
	run q --tcp A many
	[ "${lines[0]}" = "rcode=0 tc=0 an=40 id=ok" ]
	[ "${lines[40]}" = "A 10.88.1.40" ]
}

@test "dns: an upstream that is slow to answer does not hold up other queries" {
	python3 -c 'import socket,time,sys; s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); open(sys.argv[1],"w").write(str(s.getsockname()[1])); time.sleep(60)' "$T/sink.port" &
	PIDS+=($!)
	local i
	for i in $(seq 50); do
		[ -s "$T/sink.port" ] && break
		sleep 0.1
	done
	start_dns --upstream "127.0.0.1:$(cat "$T/sink.port")"
	q A slow1.example >"$T/slow1" &
	PIDS+=($!)
	q A slow2.example >"$T/slow2" &
	PIDS+=($!)
	sleep 0.3
	# Both forwarded queries wait 2 s for the upstream; a local name is
	# answered meanwhile: before their SERVFAIL has come back.
	run q A web
	[ "${lines[1]}" = "A 10.88.0.2" ]
	[ ! -s "$T/slow1" ]
	[ ! -s "$T/slow2" ]
	wait "${PIDS[-1]}" "${PIDS[-2]}"
	[ "$(head -1 "$T/slow1")" = "rcode=2 tc=0 an=0 id=ok" ]
	[ "$(head -1 "$T/slow2")" = "rcode=2 tc=0 an=0 id=ok" ]
}

@test "dns: malformed queries get FORMERR or NOTIMP, and it keeps answering" {
	start_dns --resolv /dev/null
	# QDCOUNT 2
	run q --raw 12340100000200000000000003776562000001000103776562000001000100
	[ "${lines[0]}" = "rcode=1 tc=0 an=0 id=ok" ]
	# A compression pointer to itself.
	run q --raw 123401000001000000000000c00c00010001
	[ "${lines[0]}" = "rcode=1 tc=0 an=0 id=ok" ]
	# Opcode 2 (STATUS).
	run q --raw 123411000001000000000000037765620000010001
	[ "${lines[0]}" = "rcode=4 tc=0 an=0 id=ok" ]
	# Cut in the middle of a label.
	run q --raw 12340100000100000000000003776501
	[ "${lines[0]}" = "rcode=1 tc=0 an=0 id=ok" ]
	run q A web
	[ "${lines[1]}" = "A 10.88.0.2" ]
}

@test "dns: random packets, idle and garbage TCP connections do not stop it" {
	start_upstream
	start_dns --upstream "127.0.0.1:$UP"
	python3 - "$PORT" <<-'EOF'
		import os, random, socket, struct, sys
		port = int(sys.argv[1])
		rnd = random.Random(1)
		u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		base = bytes.fromhex("1234010000010000000000010377656200000100010000291000000000000000")
		for i in range(20000):
		    if i % 2:
		        m = bytearray(base)
		        for _ in range(rnd.randrange(1, 6)):
		            m[rnd.randrange(len(m))] = rnd.randrange(256)
		        m = bytes(m[:rnd.randrange(len(m) + 1)])
		    else:
		        m = os.urandom(rnd.randrange(0, 600))
		    u.sendto(m, ("127.0.0.1", port))
		# More idle connections than it keeps, and some that lie about lengths.
		idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
		for m in (b"\x00\x00", b"\xff\xff" + os.urandom(100), b"\x00\x20" + os.urandom(32), b"\x00"):
		    c = socket.create_connection(("127.0.0.1", port))
		    try:
		        c.sendall(m)
		    except OSError:
		        pass
		    c.close()
		for c in idle:
		    c.close()
	EOF
	run q A web
	[ "${lines[1]}" = "A 10.88.0.2" ]
	run q --tcp A web
	[ "${lines[1]}" = "A 10.88.0.2" ]
	run q A example.org
	[ "${lines[1]}" = "A 192.0.2.77" ]
	kill -0 "$DNS_PID"
}

@test "dns: a second instance with the same lock exits 0 at once; SIGTERM stops the first" {
	start_dns --resolv /dev/null
	[ "$(cat "$T/lock")" = "$DNS_PID" ]
	run timeout 5 "$DNS" --listen "127.0.0.1:$(free_port)" --names "$T/names" --lock "$T/lock"
	[ "$status" -eq 0 ]
	# The first one still holds the lock and answers.
	[ "$(cat "$T/lock")" = "$DNS_PID" ]
	run q A web
	[ "${lines[1]}" = "A 10.88.0.2" ]

	kill -TERM "$DNS_PID"
	local rc=0
	wait "$DNS_PID" || rc=$?
	[ "$rc" -eq 0 ]
	# The lock is free again.
	run flock -n "$T/lock" true
	[ "$status" -eq 0 ]
}
