#!/usr/bin/env bash
# Party screening against the real Consolidated Screening List, read in place
# from ../shared/regulatory/data (never copied into the repository; see that
# directory's README). Skipped, exit 0, when the file is not there.
#
#  (a) the screening example in check mode: listed names (exact and
#      disguised) hit, unlisted controls do not, and the list loads in at most
#      SCREENING_MAX_LOAD_MS (default 2000) milliseconds;
#  (b) the real `classifier` and `licensing` binaries (release) on free
#      loopback ports, licensing with `--screening-list <the list>` and a
#      temporary SQLite ledger; its start-up time until SERVING is printed.
#      Then `exportctl decide --json` for real listed parties (Entity List,
#      Denied Persons, SDN, Unverified List, MEU) and disguised spellings of
#      them: none may come back NO_LICENSE_REQUIRED, and the exact Entity List,
#      DPL and SDN names must be LICENSE_REQUIRED / PROHIBITED; and unlisted
#      controls to JP/DE: no `screening:` determination, and the decision's
#      screening_sources count every entry of the list;
#  (c) the acceptance scenarios (tests/tests/it/scenarios.rs) with the official
#      list loaded instead of the fixture (EXPORTCTL_TEST_SCREENING_LIST).
#
# Ends with "screening-real-list: N passed, M failed"; non-zero on failure.
#
# Environment:
#   SCREENING_LIST          the list (default ../shared/regulatory/data/consolidated-screening-list-2026-07-31.json)
#   SCREENING_OUT           logs and responses (default <repo>/target/screening-real-list)
#   SCREENING_START_SECS    longest wait for SERVING (default 120)
#   SCREENING_MAX_LOAD_MS   load-time budget of (a) (default 2000)
#   SCREENING_PROFILE       release (default) or debug: the build used (the load budget holds for release only)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
LIST="${SCREENING_LIST:-$ROOT/../shared/regulatory/data/consolidated-screening-list-2026-07-31.json}"
OUT="${SCREENING_OUT:-$ROOT/target/screening-real-list}"
START_SECS="${SCREENING_START_SECS:-120}"
MAX_LOAD_MS="${SCREENING_MAX_LOAD_MS:-2000}"
PROFILE="${SCREENING_PROFILE:-release}"
case "$PROFILE" in
release) PROFILE_FLAG=(--release) ;;
debug) PROFILE_FLAG=() ;;
*)
    echo "screening-real-list: SCREENING_PROFILE must be release or debug, not '$PROFILE'" >&2
    exit 2
    ;;
esac

if [[ ! -f "$LIST" ]]; then
    echo "screening-real-list: SKIPPED: no official list at $LIST (the official data is not on this machine)"
    exit 0
fi
LIST="$(cd "$(dirname "$LIST")" && pwd)/$(basename "$LIST")"

PASSED=0
FAILED=0
PIDS=()
pass() {
    PASSED=$((PASSED + 1))
    printf '  PASS  %s\n' "$*"
}
fail() {
    FAILED=$((FAILED + 1))
    printf '  FAIL  %s\n' "$*"
}
summary() { printf 'screening-real-list: %d passed, %d failed\n' "$PASSED" "$FAILED"; }
abort() {
    printf 'screening-real-list: aborted: %s\n' "$*" >&2
    for log in "$OUT"/*.log; do
        [[ -s "$log" ]] || continue
        printf -- '--- last lines of %s ---\n' "$log" >&2
        tail -n 20 "$log" >&2
    done
    FAILED=$((FAILED + 1))
    summary
    exit 1
}
stop_servers() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap stop_servers EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rm -rf "$OUT"
mkdir -p "$OUT"
echo "screening-real-list: $LIST ($(wc -c <"$LIST") bytes)"

# ------------------------------------------------------------------ (a)
echo "==> (a) cargo run ${PROFILE_FLAG[*]} -p exportctl-screening --example screen_budget -- <list> --check-only"
if cargo run --quiet "${PROFILE_FLAG[@]}" -p exportctl-screening --example screen_budget -- "$LIST" --check-only \
    >"$OUT/screen_budget.out" 2>"$OUT/screen_budget.err"; then
    RC=0
else
    RC=$?
fi
sed -e 's/^/    | /' "$OUT/screen_budget.out"
if [[ $RC -eq 0 ]]; then
    pass "screen_budget check mode: $(grep -c '^ok ' "$OUT/screen_budget.out") checks passed"
else
    fail "screen_budget check mode exited $RC ($(grep -c '^FAIL' "$OUT/screen_budget.out" || true) checks failed)"
    tail -n 5 "$OUT/screen_budget.err" | sed -e 's/^/    ! /'
fi
load_ms="$(sed -n 's/^load: \([0-9]*\) ms.*/\1/p' "$OUT/screen_budget.out")"
if [[ -n "$load_ms" && "$load_ms" -le "$MAX_LOAD_MS" ]]; then
    pass "list load ${load_ms} ms <= ${MAX_LOAD_MS} ms"
elif [[ $PROFILE != release && -n "$load_ms" ]]; then
    echo "    list load ${load_ms} ms in a $PROFILE build (the ${MAX_LOAD_MS} ms budget is for release builds)"
else
    fail "list load '${load_ms:-?}' ms, budget ${MAX_LOAD_MS} ms"
fi

# ------------------------------------------------------------------ (b)
echo "==> (b) cargo build ${PROFILE_FLAG[*]} --bin classifier --bin licensing --bin exportctl"
cargo build --quiet "${PROFILE_FLAG[@]}" --bin classifier --bin licensing --bin exportctl || abort "cargo build failed"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
BIN="$TARGET_DIR/$PROFILE"

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}
# Waits until `<binary> healthcheck --addr ADDR` reports SERVING; prints the seconds it took.
wait_serving() {
    local bin="$1" addr="$2" pid="$3" started="$4"
    local deadline=$((SECONDS + START_SECS))
    until "$BIN/$bin" healthcheck --addr "$addr" >/dev/null 2>&1; do
        kill -0 "$pid" 2>/dev/null || abort "$bin exited while starting"
        ((SECONDS < deadline)) || abort "$bin was not SERVING after ${START_SECS}s"
        sleep 0.05
    done
    python3 -c "import time; print(f'{time.time() - $started:.2f}')"
}

CPORT="$(free_port)"
"$BIN/classifier" --listen "127.0.0.1:$CPORT" >"$OUT/classifier.log" 2>&1 &
PIDS+=($!)
wait_serving classifier "127.0.0.1:$CPORT" "${PIDS[-1]}" "$(date +%s.%N)" >/dev/null

LPORT="$(free_port)"
started="$(date +%s.%N)"
"$BIN/licensing" --listen "127.0.0.1:$LPORT" --classifier-url "http://127.0.0.1:$CPORT" \
    --ledger "sqlite://$OUT/ledger.db" --screening-list "$LIST" --log-format json \
    >"$OUT/licensing.log" 2>&1 &
PIDS+=($!)
startup="$(wait_serving licensing "127.0.0.1:$LPORT" "${PIDS[-1]}" "$started")"
echo "    licensing with the list: SERVING after ${startup} s (pid ${PIDS[-1]}, log $OUT/licensing.log)"
grep -i 'screening' "$OUT/licensing.log" | head -n 3 | cut -c1-300 | sed -e 's/^/    | /' || true

# Decides every case of cases.json with `exportctl decide --json` and checks it.
python3 - "$LIST" "$OUT/cases.json" <<'PY'
import json, sys

data = json.load(open(sys.argv[1]))
results = data["results"]

def entry(source_prefix, name):
    """A real entry of the list, by source and exact name; its first country."""
    for r in results:
        if r["source"].startswith(source_prefix) and r["name"] == name:
            countries = [a.get("country") for a in (r.get("addresses") or []) if a.get("country")]
            # The entry's first country, China when it is one of them.
            return r, ("CN" if "CN" in countries else countries[0] if countries else "")
    sys.exit(f"the list has no {source_prefix} entry named {name!r}")

def cyrillic(s):
    return s.translate(str.maketrans("AaEeOoCcPpXxyHBKMT", "АаЕеОоСсРрХхуНВКМТ"))

def fullwidth(s):
    return "".join(chr(ord(c) - 0x21 + 0xFF01) if "!" <= c <= "~" else c for c in s)

def zwsp(s):
    return "\u200b".join(s)

cases = []
# Listed: (label, source, exact name, expected outcome of the exact name, disguises)
listed = [
    ("EL", "Entity List", "Huawei Technologies Co., Ltd.", "LICENSE_REQUIRED",
     ["Huawei Technologies", "HUAWEI TECH CO LTD", "Huawei Technologies Company Limited"]),
    ("DPL", "Denied Persons", "SHUTTLE LONG CO, LTD.", "PROHIBITED",
     ["Shuttle Long Company Limited"]),
    ("SDN", "Specially Designated Nationals", "LIMMT ECONOMIC AND TRADE COMPANY, LTD.", "PROHIBITED",
     ["LIMMT Economic & Trade Co."]),
    ("UVL", "Unverified List", "Piricas Trading Company", None, ["Piricas Trading Co."]),
    ("MEU", "Military End User", "AECC Aviation Power Co. Ltd.", None, ["AECC Aviation Power"]),
]
for code, prefix, name, exact_outcome, variants in listed:
    r, country = entry(prefix, name)
    country = country or "CN"
    cases.append({"kind": "listed", "code": code, "name": name, "country": country,
                  "want": exact_outcome, "what": f"{code} exact"})
    disguises = [("Cyrillic homoglyphs", cyrillic(name)), ("full-width", fullwidth(name)),
                 ("zero-width spaces", zwsp(name))]
    disguises += [("variant", v) for v in variants]
    for how, v in disguises:
        cases.append({"kind": "disguised", "code": code, "name": v, "country": country,
                      "want": None, "what": f"{code} {how}"})
for name, country in [
    ("Toyota Motor Corporation", "JP"), ("Sony Group Corporation", "JP"),
    ("Tokyo Electron Limited", "JP"), ("Example Memory Co.", "JP"),
    ("Robert Bosch GmbH", "DE"), ("Siemens AG", "DE"),
    ("Infineon Technologies AG", "DE"), ("Nestlé Deutschland AG", "DE"),
]:
    cases.append({"kind": "unlisted", "code": "-", "name": name, "country": country,
                  "want": "NO_LICENSE_REQUIRED", "what": "unlisted control"})
json.dump({"entries": len(results), "cases": cases}, open(sys.argv[2], "w"), ensure_ascii=False)
print(f"    {len(cases)} cases from {len(results)} entries")
PY

LICENSING_URL="http://127.0.0.1:$LPORT"
n=0
while IFS= read -r -d '' case_json; do
    n=$((n + 1))
    name="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["name"])' "$case_json")"
    country="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["country"])' "$case_json")"
    if "$BIN/exportctl" decide --licensing-url "$LICENSING_URL" --json --request-id "real-list-$n" \
        --export-country US --destination-country "$country" \
        --end-user-name "$name" --end-user-country "$country" --purpose civil \
        --origin-country US --kind material --material wet_clean_chemical --sku WCC-1 \
        --as-of 2026-08-01 >"$OUT/decide-$n.json" 2>"$OUT/decide-$n.err"; then
        RC=0
    else
        RC=$?
    fi
    if msg="$(python3 - "$case_json" "$OUT/decide-$n.json" "$RC" "$OUT/cases.json" <<'PY'
import json, sys
case = json.loads(sys.argv[1])
rc = int(sys.argv[3])
entries = json.load(open(sys.argv[4]))["entries"]
label = f"{case['what']}: {case['name']!r} -> {case['country']}"
if rc != 0:
    print(f"{label}: exportctl decide exited {rc}")
    sys.exit(1)
d = json.load(open(sys.argv[2]))["decision"]
outcome = d["outcome"].removeprefix("OUTCOME_")
dets = [x for l in d["lines"] for x in l["determinations"]]
screening = [x for x in dets if x["rule_id"].startswith("screening:")]
rules = sorted({f"{x['rule_id'][:48]}={x['outcome'].removeprefix('OUTCOME_')}" for x in screening})
shown = f"{outcome} [{', '.join(rules) or 'no screening determination'}]"
if case["kind"] == "unlisted":
    counts = [s["entries"] for s in d.get("screening_sources", [])]
    problems = []
    if outcome != "NO_LICENSE_REQUIRED":
        problems.append(f"outcome {outcome}")
    if screening:
        problems.append("screening determinations " + ", ".join(rules))
    if counts != [entries]:
        problems.append(f"screening_sources entries {counts}, want [{entries}]")
    if problems:
        print(f"{label}: {'; '.join(problems)}")
        sys.exit(1)
    print(f"{label}: {outcome}, no screening determination, screened against {counts[0]} entries")
    sys.exit(0)
if outcome == "NO_LICENSE_REQUIRED":
    print(f"{label}: cleared as NO_LICENSE_REQUIRED")
    sys.exit(1)
if not screening:
    print(f"{label}: {outcome} but no screening determination")
    sys.exit(1)
if case["want"]:
    hit = [x for x in screening if x["rule_id"].startswith(f"screening:{case['code']}:")
           and x["outcome"] == "OUTCOME_" + case["want"]]
    if not hit:
        print(f"{label}: {shown}, want a screening:{case['code']}: determination {case['want']}")
        sys.exit(1)
print(f"{label}: {shown}")
PY
    )"; then
        pass "$msg"
    else
        fail "$msg"
        head -c 400 "$OUT/decide-$n.err" | sed -e 's/^/    ! /' || true
    fi
done < <(python3 -c '
import json, sys
for c in json.load(open(sys.argv[1]))["cases"]:
    sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\0")
' "$OUT/cases.json")

for i in "${!PIDS[@]}"; do
    kill -0 "${PIDS[$i]}" 2>/dev/null || fail "a server died during the checks (see $OUT/*.log)"
done
echo "    licensing start-up with the list: ${startup} s; list load (example): ${load_ms:-?} ms"

# ------------------------------------------------------------------ (c)
# The acceptance scenarios again, with the official list loaded instead of the fixture.
if EXPORTCTL_TEST_SCREENING_LIST="$LIST" cargo test -q -p exportctl-tests --test it scenarios \
    >"$OUT/scenarios.out" 2>&1; then
    pass "the acceptance scenarios pass with the official list loaded"
else
    fail "the acceptance scenarios with the official list loaded (see $OUT/scenarios.out)"
    tail -n 20 "$OUT/scenarios.out" | sed -e 's/^/    ! /' || true
fi
summary
[[ $FAILED -eq 0 ]]
