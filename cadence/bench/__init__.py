"""The benchmark: the full pipeline side by side with a plain DuckDB script and a plain pandas script.

`cadence bench` (see run_bench) generates data at several sizes and, in the same run, times each approach
in its own process, checks that the three agree on the core numbers, and writes docs/benchmarks.md.
"""
