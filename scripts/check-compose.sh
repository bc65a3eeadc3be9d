#!/usr/bin/env bash
# Checks docker-compose.yml without a Docker engine:
#
#  1. validates it against the Compose Specification JSON schema (the copy
#     vendored in the PyPI package check-jsonschema, validated with python
#     jsonschema), and checks that the schema check is not vacuous (a copy with
#     a misspelt depends_on condition must fail);
#  2. checks what the schema cannot: healthcheck durations, every depends_on
#     waits for a health-checked service, the images' commands are binaries the
#     Dockerfile builds, published ports and service URLs name ports the
#     services listen on, and the PostgreSQL variant of licensing differs from
#     licensing only in its ledger;
#  3. starts the built binaries of the default-profile services with exactly
#     the command and environment the compose file gives them, in depends_on
#     order, runs each service's healthcheck command (it must fail before the
#     service is up and pass after), classifies and decides through the
#     running services with `exportctl`, finds the SQLite ledger in the
#     service's volume, and stops them with SIGTERM (exit 0 within
#     stop_grace_period).
#
# Each check prints a line; the run ends with "N passed, M failed" and exits
# non-zero if anything failed.
#
# check-jsonschema is installed once, quietly, into a venv under
# target/tools/ (gitignored), like buf in scripts/buf-lint.sh.
#
# Environment:
#   CHECK_JSONSCHEMA_VERSION  check-jsonschema version to install (default below)
#   EXPORTCTL_TOOLS           where tools are installed (default: <repo>/target/tools)
#   CHECK_COMPOSE_FILE        the compose file to check (default: <repo>/docker-compose.yml)
#   CHECK_COMPOSE_OUT         logs and scratch directories (default: <repo>/target/check-compose)
#   CHECK_COMPOSE_RELEASE=1   check the release binaries (default: debug, already
#                             built by the rest of .ci/run; the image builds release)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VERSION="${CHECK_JSONSCHEMA_VERSION:-0.39.0}"
TOOLS="${EXPORTCTL_TOOLS:-$ROOT/target/tools}"
VENV="$TOOLS/check-jsonschema-$VERSION"
OUT="${CHECK_COMPOSE_OUT:-$ROOT/target/check-compose}"

log() { printf 'check-compose: %s\n' "$*" >&2; }
abort() {
    log "aborted: $*"
    printf '0 passed, 1 failed\n'
    exit 1
}

# ---------------------------------------------------------------- tools
ensure_tools() {
    local cj="$VENV/bin/check-jsonschema"
    if [[ -x "$cj" ]] && "$cj" --version 2>/dev/null | grep -qF "version $VERSION"; then
        return
    fi
    command -v python3 >/dev/null 2>&1 || abort "python3 is needed (pip package check-jsonschema)"
    mkdir -p "$TOOLS"
    if command -v flock >/dev/null 2>&1; then
        exec 8>"$TOOLS/.check-jsonschema-install.lock"
        flock 8
        if [[ -x "$cj" ]] && "$cj" --version 2>/dev/null | grep -qF "version $VERSION"; then
            return
        fi
    fi
    log "installing check-jsonschema $VERSION (PyPI) into $VENV"
    rm -rf "$VENV"
    python3 -m venv "$VENV" >/dev/null ||
        abort "python3 -m venv failed (on Debian/Ubuntu: apt-get install python3-venv)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
        "check-jsonschema==$VERSION" >&2 || abort "pip install check-jsonschema==$VERSION failed"
    "$cj" --version 2>/dev/null | grep -qF "version $VERSION" ||
        abort "installed check-jsonschema does not report version $VERSION"
}
ensure_tools

# ---------------------------------------------------------------- binaries
PROFILE=debug
BUILD_FLAGS=()
if [[ "${CHECK_COMPOSE_RELEASE:-}" == 1 ]]; then
    PROFILE=release
    BUILD_FLAGS=(--release)
fi
log "cargo build ${BUILD_FLAGS[*]} --bin classifier --bin licensing --bin exportctl"
cargo build "${BUILD_FLAGS[@]}" --bin classifier --bin licensing --bin exportctl >&2 ||
    abort "cargo build failed"
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')"
BIN_DIR="$TARGET_DIR/$PROFILE"

mkdir -p "$OUT"
export CHECK_COMPOSE_ROOT="$ROOT" CHECK_COMPOSE_BIN_DIR="$BIN_DIR" CHECK_COMPOSE_OUT="$OUT" \
    CHECK_COMPOSE_VALIDATOR="$VENV/bin/check-jsonschema" \
    CHECK_COMPOSE_FILE="${CHECK_COMPOSE_FILE:-$ROOT/docker-compose.yml}"

# The rest is Python (the venv's, whose ruamel.yaml is the parser
# check-jsonschema validated the file with).
exec "$VENV/bin/python" - <<'PY'
import atexit
import glob
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from ruamel.yaml import YAML

ROOT = os.environ["CHECK_COMPOSE_ROOT"]
BIN_DIR = os.environ["CHECK_COMPOSE_BIN_DIR"]
OUT = os.environ["CHECK_COMPOSE_OUT"]
VALIDATOR = os.environ["CHECK_COMPOSE_VALIDATOR"]
COMPOSE = os.environ["CHECK_COMPOSE_FILE"]
DOCKERFILE = os.path.join(ROOT, "Dockerfile")

passed = failed = 0
procs = {}  # service -> Popen


def kill_all():
    for p in procs.values():
        if p.poll() is None:
            p.kill()
            p.wait()


# Whatever ends this run, no service it started outlives it.
atexit.register(kill_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
signal.signal(signal.SIGINT, lambda *_: sys.exit(130))
for old in glob.glob(os.path.join(OUT, "run-*")):
    shutil.rmtree(old, ignore_errors=True)


def step(text):
    print(f"\n==> {text}", flush=True)


def info(text):
    print(f"    {text}", flush=True)


def check(ok, text, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"  PASS  {text}", flush=True)
    else:
        failed += 1
        print(f"  FAIL  {text}", flush=True)
        for line in str(detail).strip().splitlines()[:20]:
            print(f"      | {line}", flush=True)
    return ok


def finish():
    kill_all()
    print(f"\nlogs: {OUT}")
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 else 1)


def abort(text, detail=""):
    check(False, text, detail)
    finish()


# ---------------------------------------------------------------- 1. schema
step(f"schema: {os.path.relpath(COMPOSE, ROOT)} against the Compose Specification (check-jsonschema vendor.compose-spec)")
r = subprocess.run([VALIDATOR, "--builtin-schema", "vendor.compose-spec", COMPOSE],
                   capture_output=True, text=True)
check(r.returncode == 0, f"{os.path.basename(COMPOSE)} is valid", r.stdout + r.stderr)

with open(COMPOSE) as f:
    text = f.read()
mutated = text.replace("condition: service_healthy", "condition: service_healty", 1)
with tempfile.NamedTemporaryFile("w", suffix=".yml", dir=OUT, delete=False) as f:
    f.write(mutated)
    bad_path = f.name
r = subprocess.run([VALIDATOR, "--builtin-schema", "vendor.compose-spec", bad_path],
                   capture_output=True, text=True)
os.unlink(bad_path)
check(mutated != text and r.returncode != 0 and "service_healty" in r.stdout,
      "a copy with `condition: service_healty` is rejected (the schema check is not vacuous)",
      r.stdout + r.stderr)

doc = YAML(typ="safe").load(text)
services = doc.get("services") or {}


# ---------------------------------------------------------------- helpers
def interpolate(value):
    """Compose interpolation of ${VAR}, ${VAR:-default}, ${VAR-default}, $VAR and $$
    from this process's environment, as `docker compose` does from the shell's."""
    if not isinstance(value, str):
        return value

    def sub(m):
        if m.group(0) == "$$":
            return "$"
        name = m.group("braced") or m.group("plain")
        op, default = m.group("op"), m.group("default") or ""
        current = os.environ.get(name)
        if op == ":-":
            return current if current else default
        if op == "-":
            return current if current is not None else default
        return current or ""

    return re.sub(r"\$\$|\$\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?-)(?P<default>[^}]*))?\}"
                  r"|\$(?P<plain>[A-Za-z_][A-Za-z0-9_]*)", sub, value)


def environment(svc):
    """A service's `environment` as a dict of strings (list or map form; a key
    without a value is taken from this process's environment, as compose does)."""
    env = svc.get("environment") or {}
    if isinstance(env, list):
        pairs = [(e.split("=", 1) + [None])[:2] for e in env]
    else:
        pairs = list(env.items())
    out = {}
    for k, v in pairs:
        if v is None:
            if k in os.environ:
                out[k] = os.environ[k]
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        out[k] = interpolate(str(v))
    return out


def argv(value):
    if value is None:
        return None
    if isinstance(value, str):
        return shlex.split(interpolate(value))
    return [interpolate(str(a)) for a in value]


DURATION = re.compile(r"^(?:\d+(?:\.\d+)?(?:us|ms|s|m|h))+$")


def seconds(value, default):
    if value is None:
        return default
    total = 0.0
    for n, unit in re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", str(value)):
        total += float(n) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    return total


def default_profile(name):
    return not services[name].get("profiles")


def depends_on(svc):
    d = svc.get("depends_on") or {}
    if isinstance(d, list):
        return {n: {"condition": "service_started"} for n in d}
    return d


LISTEN = re.compile(r"^(?P<host>0\.0\.0\.0|\[::\]|127\.0\.0\.1|localhost)?:(?P<port>\d+)$")
URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^@/\s]*@)?(?P<host>[A-Za-z0-9_.-]+):(?P<port>\d+)")


def listen_ports(svc):
    return {int(m.group("port")) for v in environment(svc).values() if (m := LISTEN.match(v))}


def env_vars(binary):
    """The environment variables a binary reads, from the `[env: NAME=]` notes
    clap puts in its --help."""
    r = subprocess.run([os.path.join(BIN_DIR, binary), "--help"], capture_output=True, text=True,
                       env={"PATH": os.environ.get("PATH", "")})
    return set(re.findall(r"\[env: ([A-Za-z_][A-Za-z0-9_]*)", r.stdout))


# ---------------------------------------------------------------- 2. structure
step("structure: what the schema cannot check")
with open(DOCKERFILE) as f:
    dockerfile = f.read()
built = set(re.findall(r"--bin\s+([A-Za-z0-9_-]+)", dockerfile))
has_entrypoint = re.search(r"(?im)^\s*ENTRYPOINT\b", dockerfile) is not None
workdirs = re.findall(r"(?im)^\s*WORKDIR\s+(\S+)", dockerfile)
workdir = workdirs[-1] if workdirs else "/"
check(not has_entrypoint and built >= {"classifier", "licensing", "exportctl"},
      f"the Dockerfile builds {', '.join(sorted(built))} and has no ENTRYPOINT (a service's command runs as is)")

for name, svc in services.items():
    problems = []
    hc = svc.get("healthcheck")
    if hc is None:
        problems.append("no healthcheck")
    else:
        for key in ("interval", "timeout", "start_period", "start_interval"):
            if key in hc and not DURATION.match(str(hc[key])):
                problems.append(f"healthcheck.{key} `{hc[key]}` is not a duration")
    for dep, cond in depends_on(svc).items():
        if dep not in services:
            problems.append(f"depends_on names no service `{dep}`")
        elif (cond or {}).get("condition") != "service_healthy":
            problems.append(f"depends_on {dep} does not wait for service_healthy")
        elif not services[dep].get("healthcheck"):
            problems.append(f"depends_on {dep}, which has no healthcheck")
        elif default_profile(name) and not default_profile(dep):
            problems.append(f"default-profile service depends on `{dep}` of a profile")
    if svc.get("image", "").startswith("exportctl"):
        cmd = argv(svc.get("command")) or []
        test = argv((hc or {}).get("test")) or []
        exes = [cmd[0] if cmd else None, test[1] if test[:1] == ["CMD"] and len(test) > 1 else None]
        for exe in exes:
            if exe not in built:
                problems.append(f"runs `{exe}`, which the Dockerfile does not build")
        if test[:1] != ["CMD"] or test[2:3] != ["healthcheck"]:
            problems.append(f"healthcheck.test {test} is not [CMD, <binary>, healthcheck, ...]")
        # A misspelt variable would be ignored and the default used: every
        # variable must be one the binary reads (its --help lists them).
        if cmd and cmd[0] in built:
            known = env_vars(cmd[0])
            for k in environment(svc):
                if k not in known and k not in ("RUST_LOG", "RUST_BACKTRACE") and not k.startswith("OTEL_"):
                    problems.append(f"{k} is not a variable `{cmd[0]}` reads (it reads {', '.join(sorted(known))})")
        listening = listen_ports(svc)
        if not listening:
            problems.append("no listen address (HOST:PORT) in its environment")
        for k, v in environment(svc).items():
            m = LISTEN.match(v)
            if m and m.group("host") in ("127.0.0.1", "localhost"):
                problems.append(f"{k}={v} listens on the container's loopback: unreachable from "
                                "other containers and from published ports (use 0.0.0.0)")
        for p in svc.get("ports") or []:
            container = int(str(p).rsplit(":", 1)[-1].split("/")[0])
            if container not in listening:
                problems.append(f"publishes container port {container}, where nothing listens "
                                f"(listens on {sorted(listening)})")
        for k, v in environment(svc).items():
            for m in URL.finditer(v):
                target = m.group("host")
                if target in services and services[target].get("image", "").startswith("exportctl") \
                        and int(m.group("port")) not in listen_ports(services[target]):
                    problems.append(f"{k} names {target}:{m.group('port')}, where {target} does not listen")
                if target in services and target not in depends_on(svc):
                    problems.append(f"{k} names {target}, but {name} does not depend on it")
    check(not problems, f"{name}: healthcheck, depends_on, command, ports and URLs are consistent",
          "\n".join(problems))

if "licensing" in services and "licensing-postgres" in services:
    a = environment(services["licensing"])
    b = environment(services["licensing-postgres"])
    diff = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
    same_else = all(services["licensing"].get(k) == services["licensing-postgres"].get(k)
                    for k in ("image", "build", "command", "healthcheck"))
    check(diff == ["LICENSING_LEDGER"] and b["LICENSING_LEDGER"].startswith("postgres://") and same_else,
          "licensing-postgres is licensing with LICENSING_LEDGER=postgres://… (nothing else drifts)",
          f"environment differs in {diff}; same image/build/command/healthcheck: {same_else}")

# ---------------------------------------------------------------- 3. run
# What a container gets that a process on this machine cannot have as is, and
# what stands in for it here (nothing else is changed):
#  - its own network namespace: every service may listen on 0.0.0.0:50051 or
#    50052 there; here they share the host's, where those ports may be taken
#    (by another checkout, a developer's running services). So each service
#    port keeps its host part (0.0.0.0 stays 0.0.0.0, which also exercises the
#    healthcheck's unspecified-address-to-loopback rule) and gets a free port.
#  - compose's DNS: `http://classifier:50051` resolves to the classifier's
#    container; here it becomes 127.0.0.1 and the classifier's free port.
#  - volumes: `ledger:/var/lib/exportctl` is a fresh directory here, and paths
#    under the mount point in the environment point into it; the process runs
#    in the image's WORKDIR, or the directory standing in for it.
#  - the image's PATH (binaries in /usr/local/bin): PATH starts with the
#    directory of the built binaries; HOME and HOSTNAME are set as Docker sets
#    them. The environment is otherwise exactly the compose file's (env -i).
step("run: the default-profile services with the compose file's command and environment")
run_order, seen = [], set()


def visit(name, trail=()):
    if name in trail:
        abort(f"depends_on cycle: {' -> '.join(trail + (name,))}")
    if name in seen:
        return
    for dep in depends_on(services[name]):
        visit(dep, trail + (name,))
    seen.add(name)
    run_order.append(name)


for name in services:
    if default_profile(name):
        visit(name)
info(f"order: {' -> '.join(run_order)}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


host_port = {}  # (service, container port) -> port here
for name in run_order:
    for p in listen_ports(services[name]):
        host_port[(name, p)] = free_port()

scratch = tempfile.mkdtemp(prefix="run-", dir=OUT)
volume_dir = {}  # (service, mount target) -> directory here
for name in run_order:
    for v in services[name].get("volumes") or []:
        target = v.split(":")[1] if isinstance(v, str) else v.get("target")
        source = v.split(":")[0] if isinstance(v, str) else v.get("source", "anon")
        d = os.path.join(scratch, "volume-" + re.sub(r"[^A-Za-z0-9_.-]", "_", source))
        os.makedirs(d, exist_ok=True)
        volume_dir[(name, target)] = d


def translate(name, value):
    m = LISTEN.match(value)
    if m and (name, int(m.group("port"))) in host_port:
        return f"{m.group('host') or ''}:{host_port[(name, int(m.group('port')))]}"

    def url(m):
        key = (m.group("host"), int(m.group("port")))
        if key not in host_port:
            return m.group(0)
        return f"{m.group('scheme')}{m.group('user') or ''}127.0.0.1:{host_port[key]}"

    value = URL.sub(url, value)
    for (svc, target), d in volume_dir.items():
        if svc == name:
            value = re.sub(re.escape(target.rstrip("/")) + r"(?=/|$)", d, value)
    return value


def process_env(name):
    env = {k: translate(name, v) for k, v in environment(services[name]).items()}
    cwd = next((d for (svc, t), d in volume_dir.items() if svc == name and t.rstrip("/") == workdir.rstrip("/")),
               None) or os.path.join(scratch, f"workdir-{name}")
    os.makedirs(cwd, exist_ok=True)
    env.setdefault("PATH", f"{BIN_DIR}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    env.setdefault("HOME", cwd)
    env.setdefault("HOSTNAME", name)
    return env, cwd


def resolve(args, env):
    exe = shutil.which(args[0], path=env["PATH"])
    return [exe or args[0]] + args[1:]


def healthcheck(name, env, cwd):
    hc = services[name]["healthcheck"]
    test = argv(hc["test"])
    if test[0] == "CMD-SHELL" or isinstance(hc["test"], str):
        cmd = ["/bin/sh", "-c", " ".join(test[1:]) if test[0] == "CMD-SHELL" else hc["test"]]
    else:
        cmd = resolve(test[1:], env)
    try:
        r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                           timeout=seconds(hc.get("timeout"), 30))
        return r.returncode, (r.stdout + r.stderr).strip()
    except subprocess.TimeoutExpired:
        return None, f"no result within {hc.get('timeout', '30s')}"


envs = {}
for name in run_order:
    svc = services[name]
    env, cwd = process_env(name)
    envs[name] = (env, cwd)
    with open(os.path.join(OUT, f"{name}.env"), "w") as f:
        f.writelines(f"{k}={v}\n" for k, v in sorted(env.items()))
    info(f"{name}: {' '.join(argv(svc.get('command')))} in {cwd} with "
         + " ".join(f"{k}={v}" for k, v in sorted(env.items()) if k not in ("PATH", "HOME", "HOSTNAME")))

    rc, out = healthcheck(name, env, cwd)
    check(rc not in (0, None), f"{name}: `{' '.join(argv(svc['healthcheck']['test'])[1:])}` fails "
          f"(exit {rc}) before the service runs", out)

    log = open(os.path.join(OUT, f"{name}.log"), "w")
    cmd = resolve(argv(svc.get("command")), env)
    procs[name] = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    # Compose's schedule: probes every start_interval during start_period, then
    # every interval; unhealthy after `retries` failures past start_period.
    hc = svc["healthcheck"]
    start_period = seconds(hc.get("start_period"), 0)
    start_interval = seconds(hc.get("start_interval"), 5)
    interval = seconds(hc.get("interval"), 30)
    retries = int(hc.get("retries", 3))
    began, failures, tries, healthy, last = time.monotonic(), 0, 0, False, ""
    while True:
        if procs[name].poll() is not None:
            last = f"exited with {procs[name].returncode}"
            break
        rc, last = healthcheck(name, env, cwd)
        tries += 1
        if rc == 0:
            healthy = True
            break
        in_start = time.monotonic() - began < start_period
        if not in_start:
            failures += 1
            if failures >= retries:
                break
        time.sleep(start_interval if in_start else interval)
    elapsed = time.monotonic() - began
    if not check(healthy, f"{name}: healthcheck passes once it runs ({tries} probe(s), {elapsed:.1f}s): {last}",
                 last + "\n" + open(os.path.join(OUT, f"{name}.log")).read()[-2000:]):
        abort(f"{name} is not healthy, so its dependants cannot start")


def service_port(name):
    """The port here of the (one) port `name` listens on in its container."""
    ports = [p for (s, _), p in sorted(host_port.items()) if s == name]
    return ports[0] if ports else None


def exportctl(*args):
    r = subprocess.run([os.path.join(BIN_DIR, "exportctl"), *args], capture_output=True, text=True,
                       timeout=60)
    return r.returncode, r.stdout, r.stderr


step("calls: exportctl classify and decide through the running services")
if "classifier" in procs and service_port("classifier") is None:
    check(False, "classifier: no listen port to call")
elif "classifier" in procs:
    port = service_port("classifier")
    rc, out, err = exportctl("classify", "--classifier-url", f"http://127.0.0.1:{port}", "--json",
                             "--sku", "EUV-RESIST-1", "--kind", "material", "--material", "photoresist",
                             "--resist-tone", "positive", "--wavelength-nm", "13.5", "--as-of", "2023-07-22")
    try:
        resp = json.loads(out)
        us = [m["entry_id"] for r_ in resp["regimes"] if r_["regime"] == "US-EAR" for m in r_["matches"]]
    except (ValueError, KeyError) as e:
        resp, us = None, f"unreadable response ({e})"
    check(rc == 0 and us == ["3C002.a.2"], f"classifier: an EUV resist is US-EAR {us}", err + out)

if "licensing" in procs and service_port("licensing") is None:
    check(False, "licensing: no listen port to call")
elif "licensing" in procs:
    port = service_port("licensing")
    request_id = f"check-compose-{os.getpid()}-{int(time.time())}"
    args = ["decide", "--licensing-url", f"http://127.0.0.1:{port}", "--json", "--request-id", request_id,
            "--export-country", "US", "--destination-country", "CN",
            "--end-user-name", "Example Logic Fab Co.", "--end-user-country", "CN",
            "--purpose", "civil", "--ic-production", "true", "--fab-logic-node-nm", "16",
            "--fab-transistor-architecture", "finfet", "--fab-owner-headquarters", "CN",
            "--line-id", "10", "--origin-country", "US", "--quantity", "200",
            "--sku", "WCC-200", "--kind", "material", "--material", "wet_clean_chemical", "--as-of", "2023-03-01"]
    rc, out, err = exportctl(*args)
    try:
        d = json.loads(out)["decision"]
        summary = (f"{d['outcome']}, ledger #{d['sequence']}, "
                   f"{d['lines'][0]['determinations'][0]['regime']} via {d['lines'][0]['determinations'][0]['source']}")
        ok = d["outcome"] == "OUTCOME_LICENSE_REQUIRED" and int(d["sequence"]) >= 1 and d["record_hash"]
    except (ValueError, KeyError, IndexError, TypeError) as e:
        summary, ok = f"unreadable response ({e})", False
    check(rc == 0 and ok, f"licensing: Decide through the classifier hop: {summary}", err + out)

    rc2, out2, err2 = exportctl(*args)
    try:
        same = rc2 == 0 and rc == 0 and json.loads(out2)["decision"] == json.loads(out)["decision"]
    except (ValueError, KeyError):
        same = False
    check(same, "licensing: the same request id returns the recorded decision", err2 + out2)

    ledgers = [os.path.join(d_, f) for (s, _), d_ in volume_dir.items() if s == "licensing"
               for f in os.listdir(d_) if f.endswith(".db")]
    check(bool(ledgers), f"licensing: the SQLite ledger is in its volume ({', '.join(ledgers) or 'none'})",
          "files: " + ", ".join(f for (s, _), d_ in volume_dir.items() if s == "licensing" for f in os.listdir(d_)))

step("stop: SIGTERM, in reverse order, each within its stop_grace_period")
for name in reversed(run_order):
    p = procs[name]
    alive = p.poll() is None
    grace = seconds(services[name].get("stop_grace_period"), 10)
    if alive:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
    check(alive and p.returncode == 0, f"{name}: was running and exited {p.returncode} on SIGTERM "
          f"(grace {grace:g}s)", open(os.path.join(OUT, f"{name}.log")).read()[-2000:])

finish()
PY
