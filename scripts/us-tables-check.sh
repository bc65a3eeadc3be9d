#!/usr/bin/env bash
# Checks the bundled US pack against the official extracts in
# ../shared/regulatory/data (read in place, never copied; see that folder's
# README): every Country Chart cell and footnote number, every Country Group
# membership, and the reasons and controls of every ECCN the pack states for
# the extracts' date, with `exportctl check-tables`. Prints each difference
# and fails on any. Skipped, exit 0, when the extracts are not there.
#
# Environment:
#   US_TABLES_DIR   the extracts (default ../shared/regulatory/data)
#   US_TABLES_ON    the date they state (default 2026-07-23)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DIR="${US_TABLES_DIR:-$ROOT/../shared/regulatory/data}"
ON="${US_TABLES_ON:-2026-07-23}"

if ! ls "$DIR"/country-chart-*.csv >/dev/null 2>&1; then
    echo "us-tables-check: no extracts in $DIR, skipped"
    exit 0
fi
cargo build -q -p exportctl --bin exportctl
./target/debug/exportctl check-tables --data-dir "$DIR" --on "$ON" --policy-dir licensing/policy
