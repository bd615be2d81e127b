"""Run in a subprocess by the DAG tests, with AIRFLOW_HOME etc. set by the test.

``python dag_runner.py parse`` prints the DagBag's import errors and DAG ids as JSON;
``python dag_runner.py describe`` prints the DAG's schedule, whether it starts paused, and the
season its runs load (``run_season``) for a manual run, a manual run with an empty season
and a scheduled run dated 2025-06-29;
``python dag_runner.py test '<run conf JSON>'`` runs ``dag.test(run_conf=...)`` and prints
the run's state and its task states as JSON (exit 0 only when the run succeeded).
"""

import json
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def describe(dag) -> dict:
    from types import SimpleNamespace

    import pendulum

    module = sys.modules[dag.fileloc and next(
        name for name, m in sys.modules.items() if getattr(m, "__file__", None) == dag.fileloc)]
    date = pendulum.datetime(2025, 6, 29, 16, 30, tz="UTC")

    def season(run_type: str, params: dict) -> int:
        run = SimpleNamespace(run_type=run_type, run_after=date)
        return module.run_season(params, {"dag_run": run, "logical_date": date})

    return {
        "timetable": type(dag.timetable).__name__,
        "cron": getattr(dag.timetable, "expression", None),
        "paused_at_creation": dag.is_paused_upon_creation,
        "max_active_runs": dag.max_active_runs,
        "default_season": dag.params["season"],
        "seasons": {"manual": season("manual", {"season": 2018}),
                    "manual_empty": season("manual", {"season": None}),
                    "scheduled": season("scheduled", {"season": 2018})},
    }


def main() -> int:
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    if sys.argv[1] == "parse":
        errors = {k: str(v) for k, v in bag.import_errors.items()}
        print(json.dumps({"import_errors": errors, "dag_ids": sorted(bag.dags)}))
        return 0
    dag = bag.dags["f1_pipeline"]
    if sys.argv[1] == "describe":
        print(json.dumps(describe(dag)))
        return 0
    run = dag.test(run_conf=json.loads(sys.argv[2]))
    tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps({"state": str(run.state), "tasks": tasks}))
    return 0 if str(run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
