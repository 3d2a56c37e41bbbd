"""The Dagster graph: it loads, it has the shape we review, its schedule targets the month just closed."""

from __future__ import annotations

from datetime import datetime

import dagster as dg

from orchestration.definitions import defs
from orchestration.partitions import dbt_vars, month_of, partition_key_of

EXPECTED_RAW = {"raw/crm__leads", "raw/crm__opportunities", "raw/voip__calls", "raw/emailing__email_events",
                "raw/calendar__meetings"}
EXPECTED_STAGING = {"staging/stg_crm__leads", "staging/stg_crm__opportunities", "staging/stg_voip__calls",
                    "staging/stg_emailing__email_events", "staging/stg_calendar__meetings"}


def test_definitions_load_and_validate():
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_snapshot():
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    assert keys >= EXPECTED_RAW and keys >= EXPECTED_STAGING
    # Every asset is monthly-partitioned and every dbt staging model reads its raw table.
    for key in graph.get_all_asset_keys():
        assert graph.get(key).partitions_def is not None, key
    for stg in EXPECTED_STAGING:
        parents = {p.to_user_string() for p in graph.get(dg.AssetKey.from_user_string(stg)).parent_keys}
        table = stg.split("/stg_")[1]
        # the other tables' cleaning also reads the month's cleaned leads (orphans, zones, creation)
        leads = set() if table == "crm__leads" else {"staging/stg_crm__leads"}
        assert parents == {f"raw/{table}"} | leads, stg
    groups = {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in EXPECTED_STAGING}
    assert groups == {"staging"}
    assert {graph.get(dg.AssetKey.from_user_string(k)).group_name for k in EXPECTED_RAW} == {"ingestion"}
    assert [j.name for j in defs.resolve_all_job_defs() if not j.name.startswith("__")] == ["monthly_audit"]
    assert [s.name for s in defs.schedules] == ["monthly_audit_schedule", "monthly_audit_final_schedule"]


def test_every_writer_shares_the_duckdb_pool():
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.assets_def.node_def.pool == "cadence_duckdb", key


def test_schedule_runs_on_the_first_for_the_month_just_closed():
    schedule = defs.resolve_schedule_def("monthly_audit_schedule")
    assert schedule.cron_schedule == "0 6 1 * *"
    with dg.instance_for_test() as instance:
        ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=datetime(2026, 11, 1, 6, 0))
        requests = list(schedule.evaluate_tick(ctx).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-10-01"]


def test_final_schedule_reruns_the_month_whose_windows_have_closed():
    schedule = defs.resolve_schedule_def("monthly_audit_final_schedule")
    assert schedule.cron_schedule == "0 6 3 * *"
    for when, expected in ((datetime(2026, 12, 3, 6), "2026-10-01"), (datetime(2027, 1, 3, 6), "2026-11-01"),
                           (datetime(2027, 2, 3, 6), "2026-12-01")):
        with dg.instance_for_test() as instance:
            ctx = dg.build_schedule_context(instance=instance, scheduled_execution_time=when,
                                            repository_def=defs.get_repository_def())
            requests = list(schedule.evaluate_tick(ctx).run_requests or [])
        assert [r.partition_key for r in requests] == [expected], when


def test_partition_helpers():
    assert month_of("2026-10-01") == "2026-10" and partition_key_of("2026-12") == "2026-12-01"
    assert dbt_vars("2026-12") == {"partition_month": "2026-12", "min_date": "2026-12-01", "max_date": "2027-01-01"}


def test_the_instance_yaml_hides_the_newsletter_pop_up(data_dir):
    """The dagster.yaml cadence writes loads in the installed Dagster (its schema rejects unknown keys) and
    turns off the UI's first-visit pop-up (nux) and telemetry; one written by an earlier cadence is
    upgraded, one edited by hand is left alone."""
    from cadence import settings

    home = data_dir / "dagster_home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.nux_enabled is False
        assert instance.telemetry_enabled is False
        assert instance.get_settings("concurrency") == {"pools": {"default_limit": 1}}

    (home / "dagster.yaml").write_text(settings.PREVIOUS_DAGSTER_YAMLS[0])
    settings.apply()
    assert (home / "dagster.yaml").read_text() == settings.DAGSTER_YAML

    edited = settings.PREVIOUS_DAGSTER_YAMLS[0] + "run_queue:\n  max_concurrent_runs: 2\n"
    (home / "dagster.yaml").write_text(edited)
    settings.apply()
    assert (home / "dagster.yaml").read_text() == edited
