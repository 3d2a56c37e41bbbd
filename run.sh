#!/usr/bin/env bash
# One entry point that sets everything up on a fresh machine (only Python 3.11 needed), then runs a verb:
#   ./run.sh demo            install (locked) + generate the sample month + materialise it + show results
#   ./run.sh test            install (locked, with dev tools) + run the whole test suite
#   ./run.sh <cadence verb>  any CLI verb: generate, run, backfill, ui, status, docs (see ./run.sh --help)
#   ./run.sh lint            ruff + sqlfluff-free SQL checks
# The environment (.venv, or UV_PROJECT_ENVIRONMENT) is synced only when uv.lock, pyproject.toml, uv or the
# interpreter changed since the last sync (a stamp in the environment records them): otherwise a verb
# starts at once. An existing environment keeps the interpreter it was built with (whatever python3.11 is
# first on PATH now), so it is never deleted and rebuilt under a process that uses it.
set -euo pipefail
cd "$(dirname "$0")"

UV_VERSION="0.13.9"
TOOLS=".tools"
export UV_COMPILE_BYTECODE=1          # this machine sets PYTHONDONTWRITEBYTECODE: imports would be 2x slower
export UV_PROJECT_ENVIRONMENT="${UV_PROJECT_ENVIRONMENT:-$PWD/.venv}"
ENV_DIR="$UV_PROJECT_ENVIRONMENT"
STAMP="$ENV_DIR/.cadence-synced"

# Run by a candidate interpreter (-I -S: no site, no user settings; fast): exit 3 unless it is 3.11, else
# print the real interpreter (a pyenv shim or a venv's python resolve to the installed one: that path is
# what uv must get, a shim's path never matches an environment) and the key of the sync state.
STATE_PY='
import hashlib, sys
if sys.version_info[:2] != (3, 11):
    print("%d.%d" % sys.version_info[:2]); sys.exit(3)
exe = getattr(sys, "_base_executable", "") or sys.executable
key = hashlib.sha256("\0".join([exe, sys.version, *sys.argv[1:]]).encode())
for name in ("uv.lock", "pyproject.toml"):
    with open(name, "rb") as f:
        key.update(f.read())
print(exe); print(key.hexdigest())'

find_python() {
  local py
  for py in python3.11 python3 python; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "error: Python 3.11 is required (found: $(python3 --version 2>&1 || echo none))" >&2
  return 1
}

ensure_uv() {
  if [ -x "$TOOLS/bin/uv" ] && [ "$("$TOOLS/bin/uv" --version | awk '{print $2}')" = "$UV_VERSION" ]; then
    return 0
  fi
  local py; py=$(find_python)
  echo "Installing uv $UV_VERSION into $TOOLS/ ..." >&2
  "$py" -m venv "$TOOLS"
  "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
}

# Make the environment match uv.lock; do nothing (no uv call) when the stamp says it already does.
sync() {
  local state rc=0 py key
  if [ -e "$ENV_DIR/pyvenv.cfg" ]; then
    state=$("$ENV_DIR/bin/python" -I -S -c "$STATE_PY" "$UV_VERSION" "$@" 2>/dev/null) || rc=$?
    if [ "$rc" = 3 ]; then
      echo "error: $ENV_DIR is not a Python 3.11 environment (it runs Python $state); it is left as it is." >&2
      echo "  Move it away (or set UV_PROJECT_ENVIRONMENT to another folder), then run this again." >&2
      return 1
    elif [ "$rc" != 0 ]; then
      state=""
      echo "The environment's interpreter no longer runs ($ENV_DIR/bin/python): rebuilding $ENV_DIR." >&2
    fi
  fi
  if [ -z "${state:-}" ]; then
    py=$(find_python)
    state=$("$py" -I -S -c "$STATE_PY" "$UV_VERSION" "$@")
  fi
  py=${state%%$'\n'*}
  key=${state#*$'\n'}
  if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$key" ]; then
    return 0
  fi
  ensure_uv
  echo "Syncing the locked environment ($ENV_DIR, Python $py) ..." >&2
  rm -f "$STAMP"   # an interrupted sync must not leave an older stamp that could match again
  "$TOOLS/bin/uv" sync --quiet --frozen --python "$py" "$@" >&2
  printf '%s\n' "$key" > "$STAMP"
}

verb="${1:-demo}"; shift || true
case "$verb" in
  test)
    sync
    ensure_uv
    exec "$TOOLS/bin/uv" run --frozen --no-sync pytest "$@" ;;
  lint)
    sync
    ensure_uv
    "$TOOLS/bin/uv" run --frozen --no-sync ruff check .
    exec "$TOOLS/bin/uv" run --frozen --no-sync ruff format --check . ;;
  *)
    sync
    ensure_uv
    exec "$TOOLS/bin/uv" run --frozen --no-sync cadence "$verb" "$@" ;;
esac
