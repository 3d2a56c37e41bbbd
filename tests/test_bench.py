"""The benchmark's pieces: the plain DuckDB and pandas scripts agree with each other on generated data
(the full three-way agreement at scale is what `cadence bench` checks), and the target verdicts."""

from __future__ import annotations

from cadence.bench.core import disagreements, plain_duckdb, plain_pandas
from cadence.bench.harness import targets
from cadence.generator import generate


def test_plain_duckdb_and_pandas_agree_on_every_core_number(tmp_path):
    generate(tmp_path, ["2026-09"], leads_per_month=800, seed=4)
    duck, pand = plain_duckdb(tmp_path, "2026-09"), plain_pandas(tmp_path, "2026-09")
    assert len(duck) == len(pand) > 10 and duck.leads.sum() == 800
    assert disagreements(duck, pand) == []
    broken = pand.copy()
    broken.loc[0, "r"] += 0.01
    assert len(disagreements(duck, broken)) == 1  # the comparison does see a difference


def test_target_verdicts():
    def row(n, p, d, pd_, rss):
        return {"leads": n, "pipeline": {"process_seconds": p, "process_peak_rss_mb": rss},
                "duckdb": {"process_seconds": d}, "pandas": {"process_seconds": pd_}}

    got = {name: met for name, _, met in targets([row(10_000, 12, 1, 1, 500), row(100_000, 30, 2, 9, 900),
                                                 row(1_000_000, 200, 150, 700, 5000)])}
    assert got == {"10 k leads end to end <= 15 s": True, "1 M leads: pipeline <= 1.5x the plain DuckDB script": True,
                   "1 M leads: pipeline >= 3x faster than pandas": True, "1 M leads: peak RSS <= 4 GB": False,
                   "time grows no faster than linearly from 100 k to 1 M": True}
