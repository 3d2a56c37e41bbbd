"""The extract contract (cadence/contract.py) is the one place a coded value or a column is declared: the
staging yml tests read the value sets from it (generic test contract_values, var contract_value_sets), and
every contract column is read by its staging model, so a column added to the contract and forgotten in
staging fails here, not in a user's month."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from cadence.contract import ENTITIES

STAGING = Path(__file__).resolve().parents[1] / "dbt_project" / "models" / "staging"


def _tests_of(entity_table: str) -> dict[str, list]:
    for path in STAGING.glob("*/_*__models.yml"):
        for model in yaml.safe_load(path.read_text())["models"]:
            if model["name"] == f"stg_{entity_table}":
                return {c["name"]: c.get("data_tests") or [] for c in model.get("columns", [])}
    raise AssertionError(f"no yml for stg_{entity_table}")


def test_staging_tests_read_every_value_set_from_the_contract():
    for entity in ENTITIES:
        tests = _tests_of(entity.table)
        for column in entity.value_sets:
            names = [next(iter(t)) if isinstance(t, dict) else t for t in tests.get(column, [])]
            assert "contract_values" in names, (entity.table, column)
            assert "accepted_values" not in names, (entity.table, column, "a hand-written copy of the values")
            test = next(t["contract_values"] for t in tests[column] if isinstance(t, dict) and "contract_values" in t)
            assert test["arguments"]["entity"] == entity.name


def test_every_contract_column_is_read_by_its_staging_model():
    for entity in ENTITIES:
        sql = (next(STAGING.glob(f"*/stg_{entity.table}.sql"))).read_text()
        for column in entity.columns:
            assert re.search(rf"\b{column}\b", sql), f"stg_{entity.table} never reads contract column {column}"
