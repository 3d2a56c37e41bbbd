#!/usr/bin/env bash
# One entry point that sets everything up on a fresh machine (only Python 3.11 needed), then runs a verb:
#   ./run.sh demo            install (locked) + generate the sample month + materialise it + show results
#   ./run.sh test            install (locked, with dev tools) + run the whole test suite
#   ./run.sh <cadence verb>  any CLI verb: generate, run, backfill, ui, status, docs (see ./run.sh --help)
#   ./run.sh lint            ruff + sqlfluff-free SQL checks
set -euo pipefail
cd "$(dirname "$0")"

UV_VERSION="0.13.9"
TOOLS=".tools"
export UV_COMPILE_BYTECODE=1          # this machine sets PYTHONDONTWRITEBYTECODE: imports would be 2x slower
export UV_PROJECT_ENVIRONMENT="${UV_PROJECT_ENVIRONMENT:-$PWD/.venv}"

find_python() {
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

sync() {
  ensure_uv
  local py; py=$(find_python)
  echo "Syncing the locked environment (.venv) ..." >&2
  "$TOOLS/bin/uv" sync --quiet --frozen --python "$(command -v "$py")" "$@" >&2
}

verb="${1:-demo}"; shift || true
case "$verb" in
  test)
    sync
    exec "$TOOLS/bin/uv" run --frozen --no-sync pytest "$@" ;;
  lint)
    sync
    "$TOOLS/bin/uv" run --frozen --no-sync ruff check .
    exec "$TOOLS/bin/uv" run --frozen --no-sync ruff format --check . ;;
  *)
    sync
    exec "$TOOLS/bin/uv" run --frozen --no-sync cadence "$verb" "$@" ;;
esac
