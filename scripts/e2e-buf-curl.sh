#!/usr/bin/env bash
# End-to-end check of the classifier binary over real gRPC, driven by
# `buf curl` through server reflection (no local schema): the way an operator
# pokes at a running service.
#
# Builds the debug binary, starts it on a free loopback port (log in
# target/e2e/classifier.log), waits until grpc.health.v1 reports SERVING, runs
# the checks, and stops the server on exit. Each check prints a line; the run
# ends with "N passed, M failed" and exits non-zero if anything failed.
#
# Environment:
#   BUF              buf binary to use (default: installed by scripts/buf-lint.sh)
#   E2E_OUT          directory for the server log and raw responses (default: <repo>/target/e2e)
#   E2E_START_SECS   how long to wait for the server to become healthy (default 60)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="${E2E_OUT:-$ROOT/target/e2e}"
START_SECS="${E2E_START_SECS:-60}"
SERVICE=exportctl.classifier.v1.ClassifierService

PASSED=0
FAILED=0
SERVER_PID=""

step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
pass() {
    PASSED=$((PASSED + 1))
    printf '  PASS  %s\n' "$*"
}
fail() {
    FAILED=$((FAILED + 1))
    printf '  FAIL  %s\n' "$*"
}
# Setup failures end the run at once (no server, nothing to check).
abort() {
    printf '\ne2e: aborted: %s\n' "$*" >&2
    if [[ -s "${LOG:-}" ]]; then
        printf -- '--- last lines of %s ---\n' "$LOG" >&2
        tail -n 30 "$LOG" >&2
    fi
    printf '%d passed, %d failed\n' "$PASSED" "$((FAILED + 1))"
    exit 1
}

stop_server() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$SERVER_PID" 2>/dev/null; then
            echo "e2e: server did not stop on SIGTERM within 5 s; killing it" >&2
            kill -KILL "$SERVER_PID" 2>/dev/null || true
        fi
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    SERVER_PID=""
}
trap stop_server EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$OUT"
LOG="$OUT/classifier.log"

# ---------------------------------------------------------------- setup
step "build: cargo build --bin classifier"
cargo build --bin classifier || abort "cargo build failed"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET_DIR/debug/classifier"
[[ -x "$BIN" ]] || abort "no binary at $BIN after the build"

step "buf: install if missing"
BUF="${BUF:-$("$ROOT/scripts/buf-lint.sh" --print-buf-path)}" || abort "could not install buf"
info "$BUF ($("$BUF" --version))"

bufcurl() {
    "$BUF" curl --protocol grpc --http2-prior-knowledge --connect-timeout 5 --timeout 30s "$@"
}

# Runs `buf curl ARGS...` with stdout/stderr in $OUT/NAME.{out,err}; sets RC.
call() {
    local name="$1"
    shift
    local arg line="buf curl --protocol grpc --http2-prior-knowledge"
    for arg in "$@"; do
        if [[ "$arg" =~ ^[A-Za-z0-9_./:=@+-]+$ ]]; then line+=" $arg"; else line+=" '$arg'"; fi
    done
    printf '    $ %s\n' "$line"
    if bufcurl "$@" >"$OUT/$name.out" 2>"$OUT/$name.err"; then RC=0; else RC=$?; fi
}

# Prints the first lines of a file, indented (for failure messages).
show() { head -n "${2:-15}" "$1" | sed -e 's/^/      | /' || true; }

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

step "start: classifier on a free loopback port"
: >"$LOG"
for attempt in 1 2 3; do
    PORT="$(free_port)"
    "$BIN" --listen "127.0.0.1:$PORT" >>"$LOG" 2>&1 &
    SERVER_PID=$!
    sleep 0.3
    if kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    info "attempt $attempt: server exited at once (port $PORT taken?)"
done
[[ -n "$SERVER_PID" ]] || abort "the classifier did not start"
URL="http://127.0.0.1:$PORT"
info "pid $SERVER_PID, $URL, log $LOG"

step "wait: grpc.health.v1.Health/Check until SERVING (at most ${START_SECS}s)"
deadline=$((SECONDS + START_SECS))
until [[ "$(bufcurl -d '{}' "$URL/grpc.health.v1.Health/Check" 2>/dev/null)" == *'"SERVING"'* ]]; do
    kill -0 "$SERVER_PID" 2>/dev/null || abort "the classifier exited while starting"
    ((SECONDS < deadline)) || abort "the classifier was not SERVING after ${START_SECS}s"
    sleep 0.25
done
info "serving"

# ---------------------------------------------------------------- checks
step "(a) reflection lists the services and resolves their schema"
call list-services --list-services "$URL"
if [[ $RC -eq 0 ]] && grep -qx "$SERVICE" "$OUT/list-services.out"; then
    pass "--list-services names $SERVICE"
else
    fail "--list-services (exit $RC) does not name $SERVICE:"
    show "$OUT/list-services.out"
    show "$OUT/list-services.err"
fi
call list-methods --list-methods "$URL"
missing=""
for m in Classify ClassifyStream GetEntry ListEntries DescribeRules; do
    grep -qx "$SERVICE/$m" "$OUT/list-methods.out" || missing="$missing $m"
done
if [[ $RC -eq 0 && -z "$missing" ]]; then
    pass "--list-methods resolves $SERVICE through reflection ($(grep -c "^$SERVICE/" "$OUT/list-methods.out") methods)"
else
    fail "--list-methods (exit $RC) cannot resolve $SERVICE; missing:${missing:- none}"
    show "$OUT/list-methods.out"
    show "$OUT/list-methods.err"
    # Name the file reflection failed to serve (usually an import of the proto).
    bufcurl -v --list-methods "$URL" >/dev/null 2>"$OUT/list-methods-verbose.err" || true
    grep -E 'to download file|Grpc-Message' "$OUT/list-methods-verbose.err" |
        sed -e 's/%20/ /g' -e 's/^buf: [*<] (#[0-9]*) /reflection: /' -e 's/^buf: \* /reflection: /' |
        sort -u >"$OUT/list-methods-why.txt" || true
    show "$OUT/list-methods-why.txt"
fi
call list-services-v1alpha --reflect-protocol grpc-v1alpha --list-services "$URL"
if [[ $RC -eq 0 ]] && grep -qx "$SERVICE" "$OUT/list-services-v1alpha.out"; then
    pass "reflection v1alpha also names $SERVICE"
else
    fail "reflection v1alpha (exit $RC) does not name $SERVICE:"
    show "$OUT/list-services-v1alpha.err"
fi

step "(b) grpc.health.v1.Health/Check"
for svc in "" "$SERVICE"; do
    name="health${svc:+-service}"
    call "$name" -d "{\"service\":\"$svc\"}" "$URL/grpc.health.v1.Health/Check"
    status="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("status", ""))' \
        "$OUT/$name.out" 2>/dev/null || true)"
    if [[ $RC -eq 0 && "$status" == "SERVING" ]]; then
        pass "health of ${svc:-the server} is SERVING"
    else
        fail "health of ${svc:-the server}: expected SERVING, got '${status}' (exit $RC)"
        show "$OUT/$name.err"
    fi
done

step "(c) Classify an EUV photoresist as of 2023-07-22"
call classify-euv-resist \
    -d '{"spec":{"sku":"EUV-RESIST-1","kind":"ITEM_KIND_MATERIAL","material":"photoresist","resist_tone":"positive","wavelength_nm":13.5},"as_of":"2023-07-22"}' \
    "$URL/$SERVICE/Classify"
if [[ $RC -ne 0 ]]; then
    fail "Classify failed (exit $RC):"
    show "$OUT/classify-euv-resist.err"
elif msg="$(python3 - "$OUT/classify-euv-resist.out" <<'PY'
import json, sys
resp = json.load(open(sys.argv[1]))
found = {}
for regime in resp.get("regimes", []):
    for match in regime.get("matches", []):
        found.setdefault(match.get("entryId"), []).append(regime.get("regime"))
summary = "; ".join(f"{e} ({', '.join(r)})" for e, r in found.items()) or "no entries"
missing = [e for e in ("3C002.a.2", "7(19)") if e not in found]
if missing:
    print(f"missing {', '.join(missing)}; matched: {summary}")
    sys.exit(1)
if resp.get("asOf") != "2023-07-22":
    print(f"asOf is {resp.get('asOf')!r}, expected '2023-07-22'")
    sys.exit(1)
print(summary)
PY
)"; then
    pass "matched $msg"
else
    fail "Classify response: $msg"
fi

step "(d) Classify with a misspelt material is rejected with a BadRequest"
call classify-typo \
    -d '{"spec":{"sku":"TYPO-1","kind":"ITEM_KIND_MATERIAL","material":"photoresit","resist_tone":"positive","wavelength_nm":13.5},"as_of":"2023-07-22"}' \
    "$URL/$SERVICE/Classify"
# buf curl prints the error as Connect JSON on stderr and exits with code*8.
# It shows each detail as {type, value: base64} (plus "debug" only for types
# compiled into buf itself), so the BadRequest is decoded here from its bytes.
if [[ $RC -eq 0 ]]; then
    fail "the misspelt material was accepted:"
    show "$OUT/classify-typo.out"
elif msg="$(python3 - "$OUT/classify-typo.err" <<'PY'
import base64, json, sys

def fields(buf):
    """Yields (number, wire type, value) of a protobuf message's fields."""
    i = 0
    def varint():
        nonlocal i
        shift = value = 0
        while True:
            b = buf[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return value
    while i < len(buf):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            yield number, wire, varint()
        elif wire == 1:
            yield number, wire, buf[i:i + 8]
            i += 8
        elif wire == 2:
            n = varint()
            yield number, wire, buf[i:i + n]
            i += n
        elif wire == 5:
            yield number, wire, buf[i:i + 4]
            i += 4
        else:
            raise ValueError(f"unsupported wire type {wire}")

def violations(detail):
    if isinstance(detail.get("debug"), dict):  # a buf that knows BadRequest
        return [(v.get("field"), v.get("description"))
                for v in detail["debug"].get("fieldViolations", [])]
    raw = base64.b64decode(detail["value"] + "=" * (-len(detail["value"]) % 4))
    out = []
    for number, wire, value in fields(raw):  # BadRequest.field_violations = 1
        if number == 1 and wire == 2:
            f = {n: v.decode() for n, w, v in fields(value) if w == 2 and n in (1, 2)}
            out.append((f.get(1), f.get(2)))
    return out

text = open(sys.argv[1]).read()
try:
    err = json.loads(text[text.index("{"):])
except ValueError:
    print(f"stderr is not a Connect error JSON: {text[:300]!r}")
    sys.exit(1)
if err.get("code") != "invalid_argument":
    print(f"code is {err.get('code')!r}, expected 'invalid_argument'")
    sys.exit(1)
bad = [d for d in err.get("details", []) if d.get("type") == "google.rpc.BadRequest"]
if not bad:
    print(f"no google.rpc.BadRequest detail; details: {[d.get('type') for d in err.get('details', [])]}")
    sys.exit(1)
vs = [v for d in bad for v in violations(d)]
hit = [v for v in vs if v[0] == "spec.material"]
if not hit:
    print(f"BadRequest names no field spec.material; it names {[v[0] for v in vs]}")
    sys.exit(1)
print(f"invalid_argument, BadRequest field spec.material: {hit[0][1][:60]}...")
PY
)"; then
    pass "$msg (buf curl exit $RC)"
else
    fail "error response: $msg"
    show "$OUT/classify-typo.err"
fi

step "(e) DescribeRules reports the rule-pack digest"
call describe-rules -d '{}' "$URL/$SERVICE/DescribeRules"
digest="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("rulesDigest", ""))' \
    "$OUT/describe-rules.out" 2>/dev/null || true)"
if [[ $RC -eq 0 && "$digest" == sha256:* ]]; then
    pass "rules_digest $digest"
else
    fail "DescribeRules (exit $RC): rules_digest '$digest' does not start with sha256:"
    show "$OUT/describe-rules.err"
fi
classified="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("rulesDigest", ""))' \
    "$OUT/classify-euv-resist.out" 2>/dev/null || true)"
if [[ -n "$digest" && "$classified" == "$digest" ]]; then
    pass "Classify (c) reported the same digest"
else
    fail "Classify (c) reported digest '$classified', DescribeRules '$digest'"
fi

# ---------------------------------------------------------------- result
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "the classifier died during the checks (see $LOG)"
fi
printf '\nraw responses and server log: %s\n' "$OUT"
printf '%d passed, %d failed\n' "$PASSED" "$FAILED"
[[ $FAILED -eq 0 ]]
