#!/usr/bin/env bash
# The lab: real TLS clients talk to nginx across a veth pair between two network namespaces
# made here, and tcpdump records it on the server side. Writes to OUTDIR:
#   lab.pcap      every client's connections (tcpdump -s 0; TSO/GSO/GRO/TX-csum offload off)
#   lab.tsv       the manifest: one row per client run, with what its connections must show
#   versions.txt  the versions of the clients and the server
# usage: lab.sh OUTDIR        (root; exit 77 when not root or a tool is missing)
#
# Optional: LAB_EBPF=PATH_TO_SYBILWATCH also runs `sybilwatch capture --ebpf --stats` on the
# server's veth, attached before the first client and stopped after tcpdump, and writes
#   ebpf.jsonl    its fingerprint lines (tests/integration/ebpf_lab_test.sh compares them)
#   ebpf.stats    its counters (stderr)
#
# Traffic stays on the veth pair: neither namespace has a route beyond 10.213.0.0/24 and
# fd00:5713::/64, so a client that tries to reach anything else fails at once.
set -euo pipefail

usage() { echo "usage: $0 OUTDIR" >&2; exit 2; }
[ $# -eq 1 ] || usage
OUT=$(realpath -m "$1")
exec < /dev/null # no client waits on a terminal; those that read stdin are given their input
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

if [ "$(id -u)" != 0 ]; then
  echo "lab.sh: SKIP: needs root (network namespaces, tcpdump)" >&2
  exit 77
fi
for tool in ip ethtool tcpdump nginx openssl curl gnutls-cli python3 node java keytool chromium; do
  if ! command -v "$tool" > /dev/null; then
    echo "lab.sh: SKIP: $tool is not installed (make deps)" >&2
    exit 77
  fi
done

SNI=lab.sybilwatch.test
SRV_NS=swlab-srv-$$
CLI_NS=swlab-cli-$$
SRV_IF=swls$$ # interface names are at most 15 characters
CLI_IF=swlc$$
SRV4=10.213.0.1
SRV6=fd00:5713::1
# Clients that cannot bind a source address get one from the route's preferred source (set
# before each run) and, as a second label, a server port of their own.
PORT_MAIN=443
PORT_GNUTLS=8443
PORT_JAVA=8444
PORT_CHROMIUM=9443

TMP=$(mktemp -d /tmp/swlab.XXXXXX)
# Our children still running, by pid: cleared once reaped, so a reused pid is never signalled.
NGINX_PID=
TCPDUMP_PID=
CLIENT_PID=
EBPF_PID=

cleanup() {
  local rc=$? pid ns
  trap - EXIT
  trap '' INT TERM # a second signal must not cut the cleanup short
  for pid in $CLIENT_PID $EBPF_PID $TCPDUMP_PID $NGINX_PID; do
    kill -TERM "$pid" 2> /dev/null || true
  done
  for pid in $CLIENT_PID $EBPF_PID $TCPDUMP_PID $NGINX_PID; do
    wait "$pid" 2> /dev/null || true
  done
  # Anything still inside the namespaces was started by this script (they are its own).
  for ns in "$CLI_NS" "$SRV_NS"; do
    if ip netns list | grep -qw "$ns"; then
      for pid in $(ip netns pids "$ns" 2> /dev/null); do
        kill -KILL "$pid" 2> /dev/null || true
      done
      ip netns del "$ns" 2> /dev/null || true
    fi
  done
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Background processes are started with `ip netns exec` itself (it execs the command), so $! is
# the server's pid and not a subshell's that would ignore the signals meant for it.
in_srv() { ip netns exec "$SRV_NS" "$@"; }
in_cli() { ip netns exec "$CLI_NS" "$@"; }
now_ms() { date +%s%3N; }
log() { echo "lab.sh: $*"; }

# A run killed with SIGKILL (no trap runs) leaves its namespaces: remove those of lab.sh runs
# whose process is gone, with whatever that run left running inside them.
for ns in $(ip netns list | grep -Eo '^swlab-(srv|cli)-[0-9]+'); do
  if [ ! -e "/proc/${ns##*-}" ]; then
    for pid in $(ip netns pids "$ns" 2> /dev/null); do
      kill -KILL "$pid" 2> /dev/null || true
    done
    ip netns del "$ns" 2> /dev/null || true
  fi
done

if [ -n "${LAB_EBPF:-}" ] && [ ! -x "$LAB_EBPF" ]; then
  echo "lab.sh: LAB_EBPF=$LAB_EBPF is not an executable" >&2
  exit 2
fi

mkdir -p "$OUT"
rm -f "$OUT/lab.pcap" "$OUT/lab.tsv" "$OUT/versions.txt"
[ -z "${LAB_EBPF:-}" ] || rm -f "$OUT/ebpf.jsonl" "$OUT/ebpf.stats"
T_START=$(now_ms)

# --- network --------------------------------------------------------------------------------
ip netns add "$SRV_NS"
ip netns add "$CLI_NS"
ip link add "$SRV_IF" type veth peer name "$CLI_IF"
ip link set "$SRV_IF" netns "$SRV_NS"
ip link set "$CLI_IF" netns "$CLI_NS"
in_srv ip link set lo up
in_cli ip link set lo up
in_srv ip addr add "$SRV4/24" dev "$SRV_IF"
in_srv ip -6 addr add "$SRV6/64" dev "$SRV_IF" nodad
in_cli ip addr add 10.213.0.2/24 dev "$CLI_IF"
in_cli ip -6 addr add fd00:5713::2/64 dev "$CLI_IF" nodad
for i in $(seq 10 30); do
  in_cli ip addr add "10.213.0.$i/32" dev "$CLI_IF"
done
in_cli ip -6 addr add fd00:5713::10/128 dev "$CLI_IF" nodad
in_srv ip link set "$SRV_IF" up
in_cli ip link set "$CLI_IF" up
# Without this the capture shows what the stack handed the driver (one 2 KB "segment", partial
# checksums), not what a real NIC puts on the wire.
in_srv ethtool -K "$SRV_IF" tso off gso off gro off tx off > /dev/null
in_cli ethtool -K "$CLI_IF" tso off gso off gro off tx off > /dev/null

set_mtu() {
  in_srv ip link set "$SRV_IF" mtu "$1"
  in_cli ip link set "$CLI_IF" mtu "$1"
}
# The preferred source of the route to the server: the label of clients that cannot bind.
set_src() { in_cli ip route replace "$SRV4/32" dev "$CLI_IF" src "$1"; }

# --- certificates ---------------------------------------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=sybilwatch lab CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$TMP/ca.key" -out "$TMP/ca.crt" 2> /dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$SNI" \
  -keyout "$TMP/server.key" -out "$TMP/server.csr" 2> /dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s,IP:%s,IP:%s\n' \
  "$SNI" "$SRV4" "$SRV6" > "$TMP/server.ext"
openssl x509 -req -in "$TMP/server.csr" -CA "$TMP/ca.crt" -CAkey "$TMP/ca.key" \
  -CAcreateserial -days 2 -extfile "$TMP/server.ext" -out "$TMP/server.crt" 2> /dev/null
keytool -importcert -noprompt -alias swlab -file "$TMP/ca.crt" -storetype PKCS12 \
  -keystore "$TMP/trust.p12" -storepass changeit > /dev/null 2>&1
printf '%s %s\n' "$SRV4" "$SNI" > "$TMP/hosts"

# --- server ---------------------------------------------------------------------------------
mkdir -p "$TMP/www" "$TMP/nginx/logs"
printf '<!doctype html><html><head><title>sybilwatch lab</title><link rel="icon" href="data:,"></head><body><p>sybilwatch lab</p></body></html>\n' \
  > "$TMP/www/index.html"
echo "small static file" > "$TMP/www/small.txt"
head -c 204800 /dev/urandom > "$TMP/www/large.bin"
listen_lines=""
for port in "$PORT_MAIN" "$PORT_GNUTLS" "$PORT_JAVA" "$PORT_CHROMIUM"; do
  listen_lines+="    listen $SRV4:$port ssl http2;"$'\n'"    listen [$SRV6]:$port ssl http2;"$'\n'
done
cat > "$TMP/nginx.conf" << EOF
daemon off;
user root;
worker_processes 1;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 64; }
http {
  access_log $TMP/nginx/logs/access.log;
  client_body_temp_path $TMP/nginx/client_body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  types { text/html html; text/plain txt; application/octet-stream bin; }
  default_type application/octet-stream;
  server {
$listen_lines
    server_name $SNI;
    ssl_certificate $TMP/server.crt;
    ssl_certificate_key $TMP/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    root $TMP/www;
  }
}
EOF
ip netns exec "$SRV_NS" nginx -e "$TMP/nginx/logs/error.log" -c "$TMP/nginx.conf" -p "$TMP/nginx/" &
NGINX_PID=$!
for _ in $(seq 100); do
  if in_srv ss -Hltn "sport = :$PORT_CHROMIUM" | grep -q LISTEN; then break; fi
  sleep 0.05
done
in_srv ss -Hltn "sport = :$PORT_CHROMIUM" | grep -q LISTEN || {
  cat "$TMP/nginx/logs/error.log" >&2
  echo "lab.sh: nginx did not start" >&2
  exit 1
}

# --- capture --------------------------------------------------------------------------------
ip netns exec "$SRV_NS" tcpdump -i "$SRV_IF" -s 0 -U -Z root -w "$OUT/lab.pcap" \
  "tcp and (port $PORT_MAIN or port $PORT_GNUTLS or port $PORT_JAVA or port $PORT_CHROMIUM)" \
  2> "$TMP/tcpdump.err" &
TCPDUMP_PID=$!
for _ in $(seq 100); do
  if grep -q "listening on" "$TMP/tcpdump.err"; then break; fi
  sleep 0.05
done
grep -q "listening on" "$TMP/tcpdump.err" || { cat "$TMP/tcpdump.err" >&2; exit 1; }

# The eBPF path beside tcpdump: the same connections, fingerprinted from the TC hooks.
if [ -n "${LAB_EBPF:-}" ]; then
  ip netns exec "$SRV_NS" "$LAB_EBPF" capture --ebpf -i "$SRV_IF" --port "$PORT_MAIN" \
    --port "$PORT_GNUTLS" --port "$PORT_JAVA" --port "$PORT_CHROMIUM" --stats \
    > "$OUT/ebpf.jsonl" 2> "$OUT/ebpf.stats" &
  EBPF_PID=$!
  # Attached once both filters are on the interface (loading can take seconds on a busy host).
  attached=
  for _ in $(seq 600); do
    if in_srv tc filter show dev "$SRV_IF" ingress | grep -q sw_ingress &&
      in_srv tc filter show dev "$SRV_IF" egress | grep -q sw_egress; then
      attached=1
      break
    fi
    kill -0 "$EBPF_PID" 2> /dev/null || break
    sleep 0.05
  done
  if [ -z "$attached" ]; then
    cat "$OUT/ebpf.stats" >&2
    echo "lab.sh: sybilwatch capture --ebpf did not attach to $SRV_IF" >&2
    exit 1
  fi
fi

# --- clients --------------------------------------------------------------------------------
MANIFEST="$OUT/lab.tsv"
printf '# label\ttool\tsrc\tdst\tdst_port\tsni\ttls\talpn\tflags\n' > "$MANIFEST"
# manifest LABEL TOOL SRC DST PORT SNI TLS ALPN FLAGS
#   SNI '-' when none is sent; TLS the JA4 version chars; ALPN the JA4 ALPN chars of the hello;
#   FLAGS comma-separated: multiseg (the ClientHello spans >= 2 TCP segments), group=NAME (every
#   connection of the group has one JA4), mtu=N, large (fetches the 200 KB file), requests=N.
manifest() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >> "$MANIFEST"; }

run_client() { # LABEL COMMAND...: runs it in the client namespace with a time limit
  local label=$1 t0 rc=0
  shift
  t0=$(now_ms)
  # In the background and waited for, so a signal's trap runs at once and not when it ends;
  # <&0 hands on the request that some clients read (a background job would get /dev/null).
  timeout 60 ip netns exec "$CLI_NS" "$@" <&0 > "$TMP/$label.out" 2> "$TMP/$label.err" &
  CLIENT_PID=$!
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=
  # A client's helpers (Chromium's network service) may outlive it: wait for them, so their
  # connections close inside the capture and never overlap the next client's run.
  local -a left=()
  for _ in $(seq 60); do
    mapfile -t left < <(ip netns pids "$CLI_NS")
    [ ${#left[@]} -eq 0 ] && break
    sleep 0.05
  done
  if [ ${#left[@]} -gt 0 ]; then
    log "$label: ${#left[@]} helper process(es) still running after 3 s, stopping them"
    kill -TERM "${left[@]}" 2> /dev/null || true
  fi
  if [ "$rc" != 0 ]; then
    echo "lab.sh: client $label failed (exit $rc):" >&2
    tail -n 20 "$TMP/$label.out" "$TMP/$label.err" >&2
    exit 1
  fi
  log "$(printf '%-18s %5d ms' "$label" $(($(now_ms) - t0)))"
}

http_get() { printf 'GET / HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' "$SNI"; }

CURL=(curl --silent --show-error --fail --output /dev/null --max-time 20 --cacert "$TMP/ca.crt")

set_src 10.213.0.10
run_client curl-tls13 "${CURL[@]}" --interface 10.213.0.10 \
  --resolve "$SNI:$PORT_MAIN:$SRV4" "https://$SNI/"
manifest curl-tls13 curl 10.213.0.10 "$SRV4" "$PORT_MAIN" "$SNI" t13 h2 ""

set_src 10.213.0.11
run_client curl-tls12 "${CURL[@]}" --interface 10.213.0.11 --tls-max 1.2 \
  --resolve "$SNI:$PORT_MAIN:$SRV4" "https://$SNI/small.txt"
manifest curl-tls12 curl 10.213.0.11 "$SRV4" "$PORT_MAIN" "$SNI" t12 h2 ""

run_client curl-ipv6 "${CURL[@]}" --interface fd00:5713::10 \
  --resolve "$SNI:$PORT_MAIN:[$SRV6]" "https://$SNI/large.bin"
manifest curl-ipv6 curl fd00:5713::10 "$SRV6" "$PORT_MAIN" "$SNI" t13 h2 "large"

S_CLIENT=(openssl s_client -connect "$SRV4:$PORT_MAIN" -CAfile "$TMP/ca.crt" -ign_eof)
set_src 10.213.0.12
run_client openssl-tls13 "${S_CLIENT[@]}" -bind 10.213.0.12 -tls1_3 -servername "$SNI" \
  < <(http_get)
manifest openssl-tls13 openssl 10.213.0.12 "$SRV4" "$PORT_MAIN" "$SNI" t13 00 ""

set_src 10.213.0.13
run_client openssl-tls12 "${S_CLIENT[@]}" -bind 10.213.0.13 -tls1_2 -servername "$SNI" \
  < <(http_get)
manifest openssl-tls12 openssl 10.213.0.13 "$SRV4" "$PORT_MAIN" "$SNI" t12 00 ""

set_src 10.213.0.14
run_client openssl-nosni "${S_CLIENT[@]}" -bind 10.213.0.14 -noservername \
  < <(http_get)
manifest openssl-nosni openssl 10.213.0.14 "$SRV4" "$PORT_MAIN" - t13 00 ""

set_src 10.213.0.15
run_client python python3 "$HERE/lab_python_client.py" "$SRV4" "$PORT_MAIN" "$SNI" \
  10.213.0.15 "$TMP/ca.crt"
manifest python python3 10.213.0.15 "$SRV4" "$PORT_MAIN" "$SNI" t13 h1 "requests=3"

set_src 10.213.0.16
run_client node node "$HERE/lab_node_client.js" "$SRV4" "$PORT_MAIN" "$SNI" \
  10.213.0.16 "$TMP/ca.crt"
manifest node node 10.213.0.16 "$SRV4" "$PORT_MAIN" "$SNI" t13 00 ""

# gnutls-cli cannot bind: the route's source and its own port label it. stdin stays open a
# moment after the request so it reads the answer before it quits on end of input.
set_src 10.213.0.17
run_client gnutls gnutls-cli --x509cafile "$TMP/ca.crt" --sni-hostname "$SNI" \
  --verify-hostname "$SNI" -p "$PORT_GNUTLS" "$SRV4" < <(http_get; sleep 1)
manifest gnutls gnutls-cli 10.213.0.17 "$SRV4" "$PORT_GNUTLS" "$SNI" t13 00 ""

set_src 10.213.0.18
run_client java java -Djavax.net.ssl.trustStore="$TMP/trust.p12" \
  -Djavax.net.ssl.trustStorePassword=changeit -Djavax.net.ssl.trustStoreType=PKCS12 \
  -Djdk.net.hosts.file="$TMP/hosts" "$HERE/LabClient.java" "https://$SNI:$PORT_JAVA/"
manifest java java 10.213.0.18 "$SRV4" "$PORT_JAVA" "$SNI" t13 h2 ""

chromium_run() { # LABEL SRC: one headless navigation in a fresh profile
  set_src "$2"
  # The launcher script prints a harmless shell warning on stderr; the run's status is what counts.
  run_client "$1" chromium --headless --no-sandbox --disable-gpu --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync --disable-quic \
    --disable-features=OptimizationHints,MediaRouter,Translate --ignore-certificate-errors \
    --user-data-dir="$TMP/chromium-$1" --host-resolver-rules="MAP $SNI $SRV4" \
    --dump-dom "https://$SNI:$PORT_CHROMIUM/"
  grep -q "sybilwatch lab" "$TMP/$1.out" || {
    echo "lab.sh: $1 did not load the page" >&2
    exit 1
  }
}
chromium_run chromium-1 10.213.0.19
manifest chromium-1 chromium 10.213.0.19 "$SRV4" "$PORT_CHROMIUM" "$SNI" t13 h2 "multiseg,group=chromium"
chromium_run chromium-2 10.213.0.20
manifest chromium-2 chromium 10.213.0.20 "$SRV4" "$PORT_CHROMIUM" "$SNI" t13 h2 "multiseg,group=chromium"
set_mtu 1280
chromium_run chromium-mtu1280 10.213.0.21
manifest chromium-mtu1280 chromium 10.213.0.21 "$SRV4" "$PORT_CHROMIUM" "$SNI" t13 h2 "multiseg,group=chromium,mtu=1280"
set_mtu 1500

# --- finish ---------------------------------------------------------------------------------
# tcpdump may lag behind on a loaded machine and SIGTERM drops what it has not read yet: wait
# until the capture stops growing (the last FIN/ACKs are in) before stopping it.
last=-1
for _ in $(seq 30); do
  sleep 0.5
  size=$(stat -c %s "$OUT/lab.pcap")
  [ "$size" = "$last" ] && break
  last=$size
done
kill -TERM "$TCPDUMP_PID" # flushes and closes the file
wait "$TCPDUMP_PID" || true
TCPDUMP_PID=
if [ -n "$EBPF_PID" ]; then
  # Every connection has ended: its line is out. SIGTERM flushes the rest and the counters.
  kill -TERM "$EBPF_PID"
  rc=0
  wait "$EBPF_PID" || rc=$?
  EBPF_PID=
  if [ "$rc" != 0 ]; then
    cat "$OUT/ebpf.stats" >&2
    echo "lab.sh: sybilwatch capture --ebpf exited $rc" >&2
    exit 1
  fi
  log "eBPF: $(grep -c . "$OUT/ebpf.jsonl" || true) lines; $(tail -n 1 "$OUT/ebpf.stats")"
fi
{
  echo "kernel: $(uname -r)"
  echo "curl: $(curl --version | head -1)"
  echo "openssl: $(openssl version)"
  echo "gnutls-cli: $(gnutls-cli --version | head -1)"
  echo "python3: $(python3 --version 2>&1)"
  echo "node: $(node --version)"
  echo "java: $(java -version 2>&1 | head -1)"
  echo "chromium: $(chromium --version 2> /dev/null)"
  echo "nginx: $(nginx -v 2>&1)"
  echo "tcpdump: $(tcpdump --version 2>&1 | head -1)"
} > "$OUT/versions.txt"
log "$(grep -c . "$MANIFEST" | awk '{print $1 - 1}') client runs, $(stat -c %s "$OUT/lab.pcap") bytes of capture, $(($(now_ms) - T_START)) ms in all"
