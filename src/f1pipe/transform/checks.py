"""``f1pipe check``: the warehouse's own checks on the facts, then the dbt tests on the marts
(when the marts have been built), in one report."""

from __future__ import annotations

from collections.abc import Sequence

from f1pipe.config import Settings
from f1pipe.transform.build import mart_checks
from f1pipe.transform.runner import marts_built
from f1pipe.warehouse import run_checks
from f1pipe.warehouse.checks import CheckReport


def run_all_checks(settings: Settings, warehouse_url: str,
                   sessions: Sequence[str] | None = None, with_dbt: bool | None = None
                   ) -> CheckReport:
    """The fact checks, plus the dbt tests of the marts, on ``sessions`` only if given (the
    dbt tests judge the marts as a whole where dbt itself runs them: Snowflake). ``with_dbt``
    None: run the dbt tests when the marts exist (after ``f1pipe transform``); True: always
    (a missing mart fails)."""
    report = run_checks(settings, warehouse_url, sessions=sessions)
    if with_dbt or (with_dbt is None and marts_built(settings, warehouse_url)):
        report.results.extend(mart_checks(settings, warehouse_url, sessions=sessions))
    return report
