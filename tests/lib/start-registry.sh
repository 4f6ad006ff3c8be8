#!/bin/bash
# start-registry.sh - a private docker-registry (Debian's distribution 2.8)
# on loopback for the registry client's tests.
#
# Everything lives under one directory: config.yml, storage, the log, the
# pidfile and, by mode, an htpasswd file or a test CA and server certificate.
# It listens on 127.0.0.1 only, on a port found free at start.
#
# Source it and call the functions:
#   registry_start DIR [plain|htpasswd|tls]
#        exports REGISTRY_ADDR (127.0.0.1:PORT), REGISTRY_PID, and for tls
#        REGISTRY_CA (the CA certificate); htpasswd mode has one user,
#        $REGISTRY_USER / $REGISTRY_PASSWORD (default berth / s3cret)
#   registry_stop DIR    stop it by pid, remove DIR

REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}

_registry_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

_registry_make_certs() {
	local dir=$1
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=berth test CA" \
		-keyout "$dir/ca.key" -out "$dir/ca.crt" \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign \
		>/dev/null 2>&1 || return 1
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
		-keyout "$dir/server.key" -out "$dir/server.csr" >/dev/null 2>&1 || return 1
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' \
		>"$dir/server.ext"
	openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/server.ext" -out "$dir/server.crt" \
		>/dev/null 2>&1
}

registry_start() {
	local dir=$1 mode=${2:-plain}
	if [ -z "$dir" ]; then
		echo "start-registry: no directory given" >&2
		return 1
	fi
	[ -x "$REGISTRY_BIN" ] || {
		echo "start-registry: $REGISTRY_BIN missing (apt-get install docker-registry)" >&2
		return 1
	}
	mkdir -p "$dir/storage"
	dir=$(cd "$dir" && pwd)
	local port
	port=$(_registry_free_port) || return 1
	local auth="" tls="" scheme=http curl_ca=()
	case $mode in
	plain) ;;
	htpasswd)
		REGISTRY_USER=${REGISTRY_USER:-berth}
		REGISTRY_PASSWORD=${REGISTRY_PASSWORD:-s3cret}
		export REGISTRY_USER REGISTRY_PASSWORD
		htpasswd -Bbn "$REGISTRY_USER" "$REGISTRY_PASSWORD" >"$dir/htpasswd" || return 1
		auth="auth:
  htpasswd:
    realm: berth-test
    path: $dir/htpasswd"
		;;
	tls)
		_registry_make_certs "$dir" || {
			echo "start-registry: openssl failed to make the test certificates" >&2
			return 1
		}
		tls="  tls:
    certificate: $dir/server.crt
    key: $dir/server.key"
		scheme=https
		curl_ca=(--cacert "$dir/ca.crt")
		export REGISTRY_CA=$dir/ca.crt
		;;
	*)
		echo "start-registry: unknown mode '$mode' (plain, htpasswd, tls)" >&2
		return 1
		;;
	esac
	cat >"$dir/config.yml" <<-EOF
		version: 0.1
		log:
		  level: warn
		  accesslog:
		    disabled: false
		storage:
		  filesystem:
		    rootdirectory: $dir/storage
		  delete:
		    enabled: true
		  maintenance:
		    uploadpurging:
		      enabled: false
		http:
		  addr: 127.0.0.1:$port
		  secret: berth-test-secret
		$tls
		$auth
	EOF
	"$REGISTRY_BIN" serve "$dir/config.yml" </dev/null >"$dir/registry.log" 2>&1 3>&- &
	REGISTRY_PID=$!
	echo "$REGISTRY_PID" >"$dir/registry.pid"
	export REGISTRY_PID REGISTRY_ADDR=127.0.0.1:$port
	local i code
	for i in $(seq 1 100); do
		if ! kill -0 "$REGISTRY_PID" 2>/dev/null; then
			echo "start-registry: docker-registry exited during startup" >&2
			tail -n 20 "$dir/registry.log" >&2
			return 1
		fi
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${curl_ca[@]}" \
			"$scheme://$REGISTRY_ADDR/v2/" 2>/dev/null) || code=
		case $code in 200 | 401) return 0 ;; esac
		sleep 0.1
	done
	echo "start-registry: docker-registry did not answer on $REGISTRY_ADDR in 10 s" >&2
	tail -n 20 "$dir/registry.log" >&2
	registry_stop "$dir"
	return 1
}

registry_stop() {
	local dir=$1 pid i
	[ -n "$dir" ] && [ -d "$dir" ] || return 0
	if [ -s "$dir/registry.pid" ]; then
		pid=$(cat "$dir/registry.pid")
		if kill -0 "$pid" 2>/dev/null; then
			kill -TERM "$pid" 2>/dev/null || true
			for i in $(seq 1 100); do
				kill -0 "$pid" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -rf "$dir"
}
