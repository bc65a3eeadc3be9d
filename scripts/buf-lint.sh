#!/usr/bin/env bash
# Lints the protos in proto/ with `buf lint`, using the rules in proto/buf.yaml
# (STANDARD; the local google/ declarations are ignored there).
#
# buf comes from the PyPI package buf-bin (a static binary in a wheel). If it is
# not installed yet, it is installed once, quietly, into a local venv under
# target/tools/ (gitignored); later runs reuse it. Nothing is installed
# system-wide.
#
# Usage:
#   scripts/buf-lint.sh                  install buf if needed, then lint
#   scripts/buf-lint.sh --print-buf-path install buf if needed, print its path, exit
#
# Environment:
#   BUF               use this buf binary instead (no install)
#   BUF_VERSION       buf-bin version to install (default below)
#   EXPORTCTL_TOOLS   where tools are installed (default: <repo>/target/tools)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUF_VERSION="${BUF_VERSION:-1.75.0}"
TOOLS="${EXPORTCTL_TOOLS:-$ROOT/target/tools}"
VENV="$TOOLS/buf-$BUF_VERSION"

log() { printf 'buf-lint: %s\n' "$*" >&2; }
die() {
    log "error: $*"
    exit 1
}

# Prints the path of a working buf binary, installing it first if needed.
ensure_buf() {
    if [[ -n "${BUF:-}" ]]; then
        "$BUF" --version >/dev/null 2>&1 || die "BUF=$BUF does not run"
        printf '%s\n' "$BUF"
        return
    fi
    local buf="$VENV/bin/buf"
    if [[ -x "$buf" ]] && [[ "$("$buf" --version 2>/dev/null)" == "$BUF_VERSION" ]]; then
        printf '%s\n' "$buf"
        return
    fi
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to install buf (pip package buf-bin)"
    mkdir -p "$TOOLS"
    # One installer at a time; a second one waits, then finds buf installed.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$TOOLS/.buf-install.lock"
        flock 9
        if [[ -x "$buf" ]] && [[ "$("$buf" --version 2>/dev/null)" == "$BUF_VERSION" ]]; then
            printf '%s\n' "$buf"
            return
        fi
    fi
    log "installing buf $BUF_VERSION (pip package buf-bin) into $VENV"
    # A half-made venv from an interrupted run fails the check above and is
    # simply rebuilt.
    rm -rf "$VENV"
    python3 -m venv "$VENV" >/dev/null ||
        die "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "buf-bin==$BUF_VERSION" >&2 ||
        die "pip install buf-bin==$BUF_VERSION failed"
    [[ "$("$buf" --version 2>/dev/null)" == "$BUF_VERSION" ]] ||
        die "installed buf does not report version $BUF_VERSION"
    printf '%s\n' "$buf"
}

case "${1:-}" in
    --print-buf-path)
        ensure_buf
        exit 0
        ;;
    "") ;;
    *) die "unknown argument: $1 (usage: $0 [--print-buf-path])" ;;
esac

BUF_BIN="$(ensure_buf)"
cd "$ROOT/proto"
log "$("$BUF_BIN" --version) lint in proto/ (rules from proto/buf.yaml)"
if "$BUF_BIN" lint; then
    log "ok: $("$BUF_BIN" ls-files | wc -l | tr -d ' ') files, no lint findings"
else
    rc=$?
    log "FAILED: buf lint reported the findings above (exit $rc)"
    exit "$rc"
fi
