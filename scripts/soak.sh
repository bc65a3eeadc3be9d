#!/usr/bin/env bash
# Bounded soak of the two services: mixed load at moderate rates for a fixed
# time, watching that their RSS and open file descriptors stay flat.
#
#   scripts/soak.sh [SECONDS] [exportctl-bench flags...]     (default 600)
#
# Builds the release binaries (exportctl-bench, classifier, licensing), then runs
#   exportctl-bench --soak SECONDS --bin-dir <target>/release [flags...]
# which starts both services on free loopback ports with a temporary SQLite
# ledger and drives Classify, Decide (fresh and retried request ids),
# ClassifyStream and GetDecision/ListDecisions at once, printing a sample line
# every 10 s and, as the last stdout line, a JSON summary. Exits with the
# tool's status: 0 only if RSS and fds stayed flat after the warm-up and no call
# failed. See BENCHMARKS.md, "Soak".
#
# Examples:
#   scripts/soak.sh                                  # 10 minutes
#   scripts/soak.sh 3600 --soak-decide-rate 200      # an hour, gentler Decide
#
# Environment:
#   SOAK_LOG   where the output is also written (default
#              <target>/soak/soak-<date>-<time>.log)
#
# The ledger's WAL can grow by several GB during a long soak: it lives in
# $TMPDIR (or --scratch-dir DIR) and is removed afterwards (unless --keep-scratch).
set -euo pipefail

seconds="${1:-600}"
if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
  echo "usage: $0 [SECONDS] [exportctl-bench flags...]" >&2
  exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))

cd "$(dirname "$0")/.."

cargo build --release \
  -p exportctl-bench --bin exportctl-bench \
  -p exportctl-classifier --bin classifier \
  -p exportctl-licensing --bin licensing

target_dir="$(cargo metadata --format-version 1 --no-deps |
  sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-target}"
bin_dir="$target_dir/release"

log="${SOAK_LOG:-$target_dir/soak/soak-$(date +%Y%m%d-%H%M%S).log}"
mkdir -p "$(dirname "$log")"
echo "soak: ${seconds} s; output also in $log" >&2

status=0
"$bin_dir/exportctl-bench" --soak "$seconds" --bin-dir "$bin_dir" "$@" 2>&1 |
  tee "$log" || status=${PIPESTATUS[0]}
if [ "$status" -eq 0 ]; then
  echo "soak: flat (log: $log)" >&2
else
  echo "soak: FAILED with status $status (log: $log)" >&2
fi
exit "$status"
