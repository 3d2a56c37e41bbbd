"""One partition = one calendar month (the audit cycle)."""

from __future__ import annotations

import warnings
from datetime import date

import dagster as dg

from cadence.settings import partitions_start

# Every monthly asset declares BackfillPolicy.multi_run(1) (one month per run: DuckDB has one writer), a
# parameter Dagster marks beta, so each decorator warned at import: six identical lines at every command.
# The choice is deliberate (docs: README, Backfills), so this one warning is silenced here, where every asset
# module gets its partitions before its decorators run; any other beta warning still shows.
warnings.filterwarnings("ignore", message=r"Parameter `backfill_policy` of function `\w+` is currently in beta",
                        category=dg.BetaWarning)

# from the first month configured or found in the landing folder (cadence.settings.partitions_start)
monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=partitions_start())


def month_of(partition_key: str) -> str:
    """'2026-10-01' (a Dagster monthly key) -> '2026-10' (the landing folder and `partition_month`)."""
    return partition_key[:7]


def partition_key_of(month: str) -> str:
    """'2026-10' -> '2026-10-01'; raises ValueError on anything that is not a YYYY-MM month."""
    year, mon = month.split("-")
    return date(int(year), int(mon), 1).isoformat()


def dbt_vars(month: str) -> dict[str, str]:
    """The dbt vars of a partition: the month and its [min_date, max_date) window."""
    start = date.fromisoformat(partition_key_of(month))
    end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return {"partition_month": month, "min_date": start.isoformat(), "max_date": end.isoformat()}
