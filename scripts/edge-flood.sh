#!/usr/bin/env bash
# A flood of HTTP/2 streams against the real classifier binary, from outside
# (h2load, Debian's nghttp2-client): 20 connections each asking for 1,000
# concurrent Classify streams (20,000 offered at once) for EDGE_FLOOD_SECONDS
# (default 8). The server admits --max-concurrent-streams (100) per connection
# and sheds beyond --max-in-flight. Checks that no call failed at the
# transport, that the peak RSS stays under the bound, and that a health check
# on a new connection answers in the middle of the flood; prints the latency
# of the admitted calls and the calls answered per gRPC code.
#
#   scripts/edge-flood.sh [CLASSIFIER_BINARY] [EXTRA CLASSIFIER FLAGS...]
#
# Default binary: target/debug/classifier (built if missing). RSS bound:
# EDGE_FLOOD_RSS_MB (default 150). Prints one summary line per figure.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${1:-target/debug/classifier}
shift || true
bound_mb=${EDGE_FLOOD_RSS_MB:-150}
if ! command -v h2load >/dev/null; then
    echo "edge-flood: installing h2load (nghttp2-client) from Debian packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null
    apt-get install -y -qq nghttp2-client >/dev/null
fi
[ -x "$bin" ] || cargo build -q -p exportctl-classifier
work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT

# One ClassifyRequest (gallium nitride, 2024-01-01) in a gRPC frame, encoded by hand.
python3 - "$work/body" <<'EOF'
import struct, sys
def field(n, wire, payload):
    return bytes([n << 3 | wire]) + payload
def ld(n, b):
    return field(n, 2, bytes([len(b)]) + b)
spec = field(3, 0, bytes([3])) + ld(5, b"gallium_nitride")
msg = ld(1, spec) + ld(2, b"2024-01-01")
open(sys.argv[1], "wb").write(b"\x00" + struct.pack(">I", len(msg)) + msg)
EOF

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
mport=$(free_port)
"$bin" --listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" "$@" >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do
    "$bin" healthcheck --addr "127.0.0.1:$port" --timeout-ms 200 >/dev/null 2>&1 && break
    sleep 0.1
done
rss_before=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
fds_before=$(ls "/proc/$pid/fd" | wc -l)

h2load -c 20 -m 1000 -D "${EDGE_FLOOD_SECONDS:-8}" -t 2 \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    -d "$work/body" \
    "http://127.0.0.1:$port/exportctl.classifier.v1.ClassifierService/Classify" \
    >"$work/h2load" 2>&1 &
flood=$!
sleep 3
fds_during=$(ls "/proc/$pid/fd" | wc -l)
health=fail
"$bin" healthcheck --addr "127.0.0.1:$port" --timeout-ms 3000 >/dev/null 2>&1 && health=ok
wait "$flood" || true
hwm=$(awk '/VmHWM/ {print int($2/1024)}' "/proc/$pid/status")
rss_after=$(awk '/VmRSS/ {print int($2/1024)}' "/proc/$pid/status")
sleep 1
fds_after=$(ls "/proc/$pid/fd" | wc -l)

grep -E "^(finished|requests|status codes|time for request|req/s)" "$work/h2load" | sed 's/^/h2load: /'
succeeded=$(awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /succeeded/) print $i}' "$work/h2load")
failed=$(awk '/^requests:/ {for (i=1;i<=NF;i++) if ($(i+1) ~ /failed/) print $i}' "$work/h2load")

# Shed calls are HTTP 200 with grpc-status 8 in the trailers, which h2load does not
# tell apart: the server's own metrics count them.
codes=$(python3 - "$mport" <<'EOF'
import sys, urllib.request
page = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics").read().decode()
counts = {}
for line in page.splitlines():
    if line.startswith("grpc_server_handled_total{") and 'grpc_method="Classify"' in line:
        code = line.split('grpc_code="')[1].split('"')[0]
        counts[code] = int(float(line.rsplit(" ", 1)[1]))
print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
EOF
)
echo "edge-flood: Classify answered by code: ${codes}"
echo "edge-flood: open fds before ${fds_before}, during ${fds_during}, after ${fds_after}"
echo "edge-flood: RSS before ${rss_before} MB, peak ${hwm} MB, after ${rss_after} MB (bound ${bound_mb} MB)"
echo "edge-flood: requests succeeded ${succeeded:-?}, failed ${failed:-?}; health check during the flood: ${health}"
status=0
if [ "$hwm" -gt "$bound_mb" ]; then
    echo "edge-flood: FAIL peak RSS ${hwm} MB over ${bound_mb} MB" >&2
    status=1
fi
if [ "$health" != ok ]; then
    echo "edge-flood: FAIL health check did not answer during the flood" >&2
    status=1
fi
if [ "${failed:-1}" != 0 ]; then
    echo "edge-flood: FAIL ${failed:-?} requests failed at the transport" >&2
    status=1
fi
exit $status
