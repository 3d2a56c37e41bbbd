"""A real Dagster webserver, started as the README says, serves the whole partitioned graph on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload else None
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.integration
def test_webserver_serves_partitioned_graph(data_dir):
    port = _free_port()
    exe = Path(sys.executable).with_name("dagster-webserver")
    env = {**os.environ}
    proc = subprocess.Popen([str(exe), "-w", str(REPO / "workspace.yaml"), "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        deadline = time.time() + 90
        while True:
            try:
                _get(f"http://127.0.0.1:{port}/server_info")
                break
            except OSError:
                if proc.poll() is not None or time.time() > deadline:
                    raise AssertionError(f"webserver did not start: {proc.stderr.read().decode()[-2000:]}") from None
                time.sleep(0.5)
        query = "{ assetNodes { assetKey { path } groupName isPartitioned partitionKeys } }"
        nodes = _get(f"http://127.0.0.1:{port}/graphql", {"query": query})["data"]["assetNodes"]
        keys = {"/".join(n["assetKey"]["path"]): n for n in nodes}
        assert "raw/crm__leads" in keys and "staging/stg_crm__leads" in keys
        assert all(n["isPartitioned"] for n in nodes)
        assert "2026-10-01" in keys["raw/crm__leads"]["partitionKeys"]
        assert {n["groupName"] for n in nodes} >= {"ingestion", "staging"}
        # no newsletter pop-up over the graph on a first visit (nux disabled in the dagster.yaml cadence writes)
        nux = _get(f"http://127.0.0.1:{port}/graphql", {"query": "{ shouldShowNux }"})["data"]["shouldShowNux"]
        assert nux is False
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
