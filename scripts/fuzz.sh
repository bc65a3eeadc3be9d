#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a bounded time.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 60)
#
# Each target starts from its committed seeds (fuzz/seeds/<target>/) copied
# into a working corpus (fuzz/corpus/<target>/, not committed); rule_pack also
# gets the live packs, classifier/rules/*.toml and licensing/policy/*.toml,
# copied in on every run (they are not duplicated under fuzz/seeds). Prints the
# executions per target and exits non-zero if any target found a crash (a
# panic, an abort, a timeout or running out of memory); crashing inputs are in
# fuzz/artifacts/<target>/. Turn each into a regression test in the crate
# whose code crashed (classifier/tests/fuzz_regressions.rs,
# licensing/tests/fuzz_regressions.rs).
#
# Environment:
#   FUZZ_TARGETS      targets to run (default: all of `cargo fuzz list`)
#   FUZZ_BUILD_FLAGS  extra cargo-fuzz build flags (default none: AddressSanitizer,
#                     release with debug assertions and overflow checks, set in
#                     fuzz/Cargo.toml). ASan is what turns a stack overflow into a
#                     reported crash with its input saved; with `--sanitizer none`
#                     the process just dies of SIGSEGV (still a failure here).
#   FUZZ_JOBS         libFuzzer -fork jobs per target (default 1: no fork mode)
#   FUZZ_TIMEOUT      seconds one input may take before it counts as a hang (default 10)
#   FUZZ_TOOLCHAIN    toolchain cargo-fuzz runs with (default nightly)
set -euo pipefail

seconds="${1:-60}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS_PER_TARGET]" >&2
  exit 2
fi

root="$(cd "$(dirname "$0")/.." && pwd)"
fuzz_dir="$root/fuzz"
toolchain="${FUZZ_TOOLCHAIN:-nightly}"
read -r -a build_flags <<<"${FUZZ_BUILD_FLAGS:-}"
timeout="${FUZZ_TIMEOUT:-10}"
jobs="${FUZZ_JOBS:-1}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if ! rustup run "$toolchain" rustc --version >/dev/null 2>&1; then
  echo "the $toolchain toolchain is needed: rustup toolchain install $toolchain" >&2
  exit 2
fi

# The bundled packs as rule_pack seeds, from their one home: classifier/rules
# and licensing/policy (overwritten each run, so edited packs are picked up).
seed_live_packs() {
  local corpus="$1" f
  for f in "$root"/classifier/rules/*.toml; do
    cp "$f" "$corpus/classifier-$(basename "$f")"
  done
  for f in "$root"/licensing/policy/*.toml; do
    cp "$f" "$corpus/licensing-$(basename "$f")"
  done
}

cd "$fuzz_dir"
# The fuzz crate is its own workspace with its own target directory (fuzz/target).
unset CARGO_TARGET_DIR

if [ -n "${FUZZ_TARGETS:-}" ]; then
  read -r -a targets <<<"$FUZZ_TARGETS"
else
  mapfile -t targets < <(cargo "+$toolchain" fuzz list)
fi

echo "building ${targets[*]} ${build_flags[*]}"
cargo "+$toolchain" fuzz build "${build_flags[@]}"

logs="$fuzz_dir/artifacts/logs"
mkdir -p "$logs"
failed=()
summary=()
for t in "${targets[@]}"; do
  corpus="$fuzz_dir/corpus/$t"
  mkdir -p "$corpus" "$fuzz_dir/artifacts/$t"
  if [ -d "$fuzz_dir/seeds/$t" ]; then
    cp -n "$fuzz_dir/seeds/$t"/* "$corpus"/ 2>/dev/null || true
  fi
  if [ "$t" = rule_pack ]; then
    seed_live_packs "$corpus"
  fi
  log="$logs/$t.log"
  fork=()
  [ "$jobs" -gt 1 ] && fork=("-fork=$jobs" "-ignore_crashes=0")
  echo "== $t: ${seconds}s (log: ${log#"$root"/})"
  status=0
  cargo "+$toolchain" fuzz run "${build_flags[@]}" "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout="$timeout" -print_final_stats=1 \
    "${fork[@]}" >"$log" 2>&1 || status=$?
  # libFuzzer's final stats, or failing that the last "#N ..." status line.
  execs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)"
  if [ -z "$execs" ]; then
    execs="$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)"
  fi
  execs="${execs:-0}"
  crashes="$(grep -cE '^(==[0-9]+== ERROR: libFuzzer|SUMMARY: libFuzzer|.*panicked at)' "$log" || true)"
  if [ "$status" -ne 0 ] || [ "${crashes:-0}" -gt 0 ]; then
    failed+=("$t")
    summary+=("$t: $execs executions, FAILED (exit $status); see ${log#"$root"/} and fuzz/artifacts/$t/")
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY|Test unit written|artifact_prefix' "$log" | head -20 || true
  else
    summary+=("$t: $execs executions, no crash")
  fi
  echo "${summary[-1]}"
done

echo
echo "fuzz summary (${seconds}s per target):"
printf '  %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "crashes in: ${failed[*]}" >&2
  exit 1
fi
