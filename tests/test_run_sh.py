"""./run.sh, the newcomer's entry point: after the first install a verb costs well under 2 s, and an
environment is never rebuilt under a process using it (issue 17 item 1).

The real run.sh and the real pinned uv (the checkout's .tools/bin/uv, which run.sh bootstraps) work on a
tiny project (no dependencies, so no network and no 1 GB install) in a temporary checkout. Python 3.11 is
reached through a pyenv-like shim: a script on PATH that execs the real interpreter, which is what made
the old run.sh pass a path that uv never accepts as the environment's interpreter, then delete and rebuild
the environment on every call. uv is wrapped to log each call, so a test can see whether it synced.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
UV = REPO_ROOT / ".tools" / "bin" / "uv"
UV_VERSION = re.search(r'^UV_VERSION="([^"]+)"', (REPO_ROOT / "run.sh").read_text(), re.M).group(1)
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)


def _uv_ok() -> bool:
    try:
        out = subprocess.run([str(UV), "--version"], capture_output=True, text=True, timeout=30).stdout
    except OSError:
        return False
    return out.split()[1:2] == [UV_VERSION]


pytestmark = [
    pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="run.sh wants Python 3.11"),
    pytest.mark.skipif(not shutil.which("bash"), reason="run.sh is a bash script"),
    pytest.mark.skipif(not _uv_ok(), reason=f"no uv {UV_VERSION} in .tools/ (./run.sh installs it)"),
]

TINY_PYPROJECT = """\
[project]
name = "tiny"
version = "0.1.0"
requires-python = ">=3.11,<3.12"
dependencies = []
"""


def _shim(folder: Path, target: str) -> Path:
    """A pyenv-like shim: a `python3.11` script that execs an interpreter at another path."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "python3.11"
    shim.write_text(f'#!/usr/bin/env bash\nexec "{target}" "$@"\n')
    shim.chmod(0o755)
    return folder


@pytest.fixture
def checkout(tmp_path):
    """A checkout holding the real run.sh, a tiny locked project and .tools/bin/uv (a logging wrapper of
    the real uv); returns (root, run) where run(*args, path_first=...) calls ./run.sh."""
    root = tmp_path / "checkout"
    root.mkdir()
    shutil.copy2(REPO_ROOT / "run.sh", root / "run.sh")
    (root / "pyproject.toml").write_text(TINY_PYPROJECT)
    base_env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    base_env.update(UV_OFFLINE="1", UV_PYTHON_DOWNLOADS="never", UV_NO_CONFIG="1", UV_CACHE_DIR=str(tmp_path / "uv"))
    subprocess.run([str(UV), "lock", "--quiet", "--python", BASE_PYTHON], cwd=root, env=base_env, check=True)
    tools = root / ".tools" / "bin"
    tools.mkdir(parents=True)
    log = tmp_path / "uv-calls.log"
    (tools / "uv").write_text(f'#!/usr/bin/env bash\necho "$*" >> "{log}"\nexec "{UV}" "$@"\n')
    (tools / "uv").chmod(0o755)
    default_shims = _shim(tmp_path / "shims", BASE_PYTHON)

    def run(*args: str, path_first: Path = default_shims) -> subprocess.CompletedProcess:
        # Only the shim and the system's folders: no other environment's `cadence` for uv run to fall back on.
        env = {**base_env, "PATH": os.pathsep.join([str(path_first), "/usr/bin", "/bin"])}
        return subprocess.run(
            [str(root / "run.sh"), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )

    run.log = log
    return root, run


def _syncs(log: Path) -> int:
    return sum(line.startswith("sync ") for line in log.read_text().splitlines()) if log.exists() else 0


def _install_fake_cadence(env_dir: Path) -> Path:
    """The tiny project has no `cadence` command: put one in the environment. It is also the marker of the
    environment's survival: a rebuild deletes it."""
    cadence = env_dir / "bin" / "cadence"
    cadence.write_text('#!/bin/sh\necho "cadence $*"\n')
    cadence.chmod(0o755)
    return cadence


def test_a_verb_reuses_the_environment_through_a_pyenv_shim(checkout):
    root, run = checkout
    first = run("status")  # installs; the tiny project has no `cadence` yet
    env_dir = root / ".venv"
    assert (env_dir / "pyvenv.cfg").exists(), first.stderr
    assert _syncs(run.log) == 1
    sync_call = next(line for line in run.log.read_text().splitlines() if line.startswith("sync "))
    assert f"--python {BASE_PYTHON}" in sync_call, sync_call  # the real interpreter, never the shim
    cadence = _install_fake_cadence(env_dir)

    started = time.perf_counter()
    second = run("status", "--flag")
    took = time.perf_counter() - started
    assert second.returncode == 0, second.stderr
    assert second.stdout.strip() == "cadence status --flag"
    assert cadence.exists()  # not rebuilt
    assert _syncs(run.log) == 1  # in sync with uv.lock: uv sync not even called
    assert took < 2, f"./run.sh took {took:.2f} s with an environment already in sync"


def test_a_changed_lock_or_pyproject_resyncs_in_place(checkout):
    root, run = checkout
    run("status")
    cadence = _install_fake_cadence(root / ".venv")
    assert run("status").returncode == 0
    assert _syncs(run.log) == 1

    with (root / "pyproject.toml").open("a") as f:
        f.write("# a change\n")
    third = run("status")
    assert third.returncode == 0, third.stderr
    assert _syncs(run.log) == 2
    assert cadence.exists()  # synced in place, same interpreter: not rebuilt

    assert run("status").returncode == 0
    assert _syncs(run.log) == 2  # the new state is recorded


def test_another_python311_on_path_never_rebuilds_an_environment_in_use(checkout, tmp_path):
    """A new shell, cron or an IDE may put another Python 3.11 first on PATH: the environment keeps the
    interpreter it was built with, even with a process running from it."""
    root, run = checkout
    run("status")
    env_dir = root / ".venv"
    cadence = _install_fake_cadence(env_dir)
    other = tmp_path / "other-python"
    other.mkdir()
    (other / "python3.11").symlink_to(BASE_PYTHON)  # the same binary at another path: another interpreter
    user = subprocess.Popen([str(env_dir / "bin" / "python"), "-c", "import time; time.sleep(60)"])
    try:
        result = run("status", path_first=_shim(tmp_path / "other-shims", str(other / "python3.11")))
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "cadence status"
        assert cadence.exists()
        assert user.poll() is None
    finally:
        user.kill()
        user.wait()


def _other_python() -> str | None:
    """A Python that is not 3.11, when this machine has one."""
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates = [shutil.which(f"python3.{minor}") for minor in (12, 13, 10, 9)]
    candidates += sorted(str(p) for p in Path("/usr/bin").glob("python3.*") if re.fullmatch(r"python3\.\d+", p.name))
    candidates += sorted(map(str, pyenv_root.glob("versions/3.*/bin/python3")))
    for exe in filter(None, candidates):
        try:
            other = (
                subprocess.run(
                    [exe, "-c", "import sys; sys.exit(sys.version_info[:2] == (3, 11))"],
                    capture_output=True,
                    timeout=30,
                ).returncode
                == 0
            )
        except OSError:
            continue
        if other:
            return exe
    return None


def test_an_environment_whose_interpreter_is_gone_is_rebuilt(checkout, tmp_path):
    root, run = checkout
    other = tmp_path / "other-python"
    other.mkdir()
    (other / "python3.11").symlink_to(BASE_PYTHON)
    run("status", path_first=_shim(tmp_path / "other-shims", str(other / "python3.11")))
    env_dir = root / ".venv"
    assert f"home = {other}" in (env_dir / "pyvenv.cfg").read_text()
    (other / "python3.11").unlink()  # e.g. `pyenv uninstall`: the environment cannot start any more

    result = run("status")
    assert "no longer runs" in result.stderr, result.stderr
    assert _syncs(run.log) == 2
    assert f"home = {Path(BASE_PYTHON).parent}" in (env_dir / "pyvenv.cfg").read_text()
    _install_fake_cadence(env_dir)
    assert run("status").stdout.strip() == "cadence status"


@pytest.mark.skipif(_other_python() is None, reason="no Python other than 3.11 on this machine")
def test_a_non_311_environment_is_refused_not_deleted(checkout):
    root, run = checkout
    env_dir = root / ".venv"
    subprocess.run([_other_python(), "-m", "venv", "--without-pip", str(env_dir)], check=True)
    keep = env_dir / "precious"
    keep.write_text("x")
    result = run("status")
    assert result.returncode != 0
    assert "not a Python 3.11 environment" in result.stderr, result.stderr
    assert keep.exists()
    assert _syncs(run.log) == 0
