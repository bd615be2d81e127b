"""Transform: the race analytics marts, written and tested as a dbt project.

The dbt project lives at the repository root (``dbt/``); dbt runs in its own virtualenv
(``.venv-dbt``, made by ``make setup``), as Astronomer Cosmos's virtualenv mode does: dbt-core
1.11 and apache-airflow 3.3 do not resolve together. On DuckDB f1pipe runs the compiled
project itself, incrementally (:mod:`f1pipe.transform.incremental`); on Snowflake dbt runs it.
Public entry points: :func:`transform`, :func:`dbt_tests`, :func:`run_all_checks`.
"""

from f1pipe.transform.build import dbt_tests, transform
from f1pipe.transform.checks import run_all_checks
from f1pipe.transform.runner import MARTS, DbtNode, TransformSummary, dbt_checks, marts_built

__all__ = ["MARTS", "DbtNode", "TransformSummary", "dbt_checks", "dbt_tests", "marts_built",
           "run_all_checks", "transform"]
