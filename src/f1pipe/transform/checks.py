"""``f1pipe check``: the contract's checks on the facts, then the dbt tests (of the facts, and
of the marts once they are built), in one report."""

from __future__ import annotations

from collections.abc import Sequence

from f1pipe.config import Settings
from f1pipe.transform.build import dbt_tests
from f1pipe.transform.runner import marts_built
from f1pipe.warehouse import run_checks
from f1pipe.warehouse.checks import CheckReport


def run_all_checks(settings: Settings, warehouse_url: str,
                   sessions: Sequence[str] | None = None, with_dbt: bool | None = None
                   ) -> CheckReport:
    """``f1pipe check``: the checks made from the contract (natural keys, points within the
    season's rules), then the dbt tests: the facts' always, the marts' once they are built
    (``with_dbt`` True: always; a missing mart fails). All judge only ``sessions`` when
    given ("2024/12/R")."""
    report = run_checks(settings, warehouse_url, sessions=sessions)
    marts = with_dbt or (with_dbt is None and marts_built(settings, warehouse_url))
    report.results.extend(dbt_tests(settings, warehouse_url, sessions=sessions,
                                      facts_only=not marts))
    return report
