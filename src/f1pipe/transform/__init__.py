"""Transform: the race analytics marts, built and tested by dbt.

The dbt project lives at the repository root (``dbt/``); dbt runs in its own virtualenv
(``.venv-dbt``, made by ``make setup``) and is called as a subprocess, as Astronomer
Cosmos's virtualenv mode does: dbt-core 1.11 and apache-airflow 3.3 do not resolve together.
Public entry points: :func:`transform` (``dbt run``), :func:`dbt_checks` (``dbt test``).
"""

from f1pipe.transform.checks import run_all_checks
from f1pipe.transform.runner import (
    MARTS,
    DbtNode,
    TransformSummary,
    dbt_checks,
    marts_built,
    transform,
)

__all__ = ["MARTS", "DbtNode", "TransformSummary", "dbt_checks", "marts_built", "run_all_checks",
           "transform"]
