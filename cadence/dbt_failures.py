"""A failed `dbt build`, told in words: which test failed on which model and column, how many rows, and for
a few of them the file, data row and value (dagster-dbt alone says "dbt failed with exit code 1").

The project's generic tests return the failing rows themselves (macros/testing.sql), so staging rows come
with their lineage (`_source_file`, `_source_row`); the sample is read back by running the test's compiled
SQL (`query`). Values are quoted as short escaped excerpts (cadence.untrusted).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cadence.contract import ENTITIES
from cadence.untrusted import excerpt

#: Failing rows quoted per failed test.
SAMPLE_ROWS = 3
Query = Callable[[str], tuple[list[str], list[tuple]]]


def _where(columns: list[str], row: tuple) -> str:
    values = dict(zip(columns, row, strict=True))
    if values.get("_source_file") is not None and values.get("_source_row") is not None:
        row_no = int(values["_source_row"])
        return f"{values['_source_file']}, data row {row_no} (line {row_no + 1})"
    keys = [c for c in columns if c.endswith("_id") and values.get(c) is not None][:2]
    return ", ".join(f"{k} {excerpt(values[k])}" for k in keys) or "a row"


def _test_line(result: dict[str, Any], node: dict[str, Any], nodes: dict[str, Any], month: str,
               query: Query | None) -> str:
    meta = node.get("test_metadata") or {}
    kwargs = meta.get("kwargs") or {}
    column = kwargs.get("column_name") or node.get("column_name")
    attached = nodes.get(node.get("attached_node") or "", {})
    model = ".".join(p for p in (attached.get("schema"), attached.get("name")) if p) or node.get("name", "?")
    rule = meta.get("name") or "singular test " + node.get("name", "?")
    if "values" in kwargs:
        rule += " (" + ", ".join(str(v) for v in kwargs["values"]) + ")"
    elif rule == "contract_values" and column:  # the values come from the contract (cadence/contract.py)
        allowed = next((e.value_sets.get(column, ()) for e in ENTITIES if e.name == kwargs.get("entity")), ())
        rule += " (" + ", ".join([*allowed, *(["other"] if kwargs.get("other") else [])]) + ")"
    head = f"dbt test {rule} failed on {model}" + (f".{column}" if column else "") + f" for {month}"
    if result.get("status") == "error":
        return f"{head}: the test itself errored: {excerpt(result.get('message'), 300)}"
    head += f": {result.get('failures') or '?'} failing row(s)"
    code = result.get("compiled_code")
    if not (query and code):
        return head
    try:
        columns, rows = query(f"select * from ({code}) as failing limit {SAMPLE_ROWS}")
    except Exception as exc:  # the sample is a courtesy: the failure stands without it
        return f"{head} (sample unavailable: {type(exc).__name__})"
    lines = []
    for row in rows:
        value = dict(zip(columns, row, strict=True)).get(column) if column in columns else None
        lines.append(f"  - {_where(columns, row)}: " + (f"{column} = {excerpt(value)}" if column else
                                                          ", ".join(f"{c} = {excerpt(v)}" for c, v in
                                                                    list(zip(columns, row, strict=True))[:4])))
    return "\n".join([head, *lines])


def describe(run_results: dict[str, Any], manifest: dict[str, Any], month: str, query: Query | None = None) -> str:
    """Every failed model and test of a dbt invocation, one paragraph each (empty when none failed)."""
    nodes = manifest.get("nodes", {})
    out = []
    for result in run_results.get("results", []):
        uid = result.get("unique_id", "")
        node = nodes.get(uid, {})
        if result.get("status") not in ("fail", "error"):
            continue
        if node.get("resource_type") == "test":
            out.append(_test_line(result, node, nodes, month, query))
        else:
            out.append(f"dbt {node.get('resource_type', 'node')} {node.get('schema', '')}.{node.get('name', uid)} "
                       f"failed for {month}: {excerpt(result.get('message'), 300)}")
    return "\n".join(out)
