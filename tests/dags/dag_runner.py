"""Run in a subprocess by the DAG tests, with AIRFLOW_HOME etc. set by the test.

``python dag_runner.py parse`` prints the DagBag's import errors and DAG ids as JSON;
``python dag_runner.py test '<run conf JSON>'`` runs ``dag.test(run_conf=...)`` and prints
the run's state and its task states as JSON (exit 0 only when the run succeeded).
"""

import json
import sys
from pathlib import Path

DAGS = Path(__file__).resolve().parents[2] / "dags"


def main() -> int:
    from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    if sys.argv[1] == "parse":
        errors = {k: str(v) for k, v in bag.import_errors.items()}
        print(json.dumps({"import_errors": errors, "dag_ids": sorted(bag.dags)}))
        return 0
    dag = bag.dags["f1_pipeline"]
    run = dag.test(run_conf=json.loads(sys.argv[2]))
    tasks = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
    print("RESULT " + json.dumps({"state": str(run.state), "tasks": tasks}))
    return 0 if str(run.state) == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
