"""f1_pipeline: FastF1 -> Kafka -> lake -> warehouse -> marts (dbt) -> quality checks.

One run loads one season (or one round of it) for some sessions (default: races and
sprints) and some datasets; the check task judges the sessions this run produced. Every task
is a thin call into ``f1pipe.pipeline`` and is idempotent: re-running a DAG run changes
nothing in the warehouse. Settings (Kafka, lake, warehouse, Snowflake, FastF1 cache) come
from the environment / ``.env`` exactly as for the ``f1pipe`` CLI.

Schedule: manual runs (Trigger with parameters), and on race weekends every three hours from
Friday to Sunday (UTC), so each session's results land within three hours of its end
wherever the race is; a scheduled run loads the season of its date, whole (``round``
empty): re-loading what is there changes nothing. ``F1PIPE_DAG_SCHEDULE`` replaces the cron
(``none``: manual runs only). The DAG starts paused: unpause it in the UI or with
``airflow dags unpause f1_pipeline``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, get_current_context, task

# Kept literal so the DAG file parses without importing f1pipe (Airflow parses DAG files
# often); tests/dags/test_f1_pipeline.py checks they match f1pipe's own lists.
DATASETS = ["results", "laps", "race_control", "weather", "track_status"]
SESSIONS = ["R", "Q", "S", "SQ", "SS", "FP1", "FP2", "FP3"]

# Race weekends: Friday to Sunday, every three hours (UTC), half past (sessions end on the hour
# or half hour; FastF1's sources have the results within minutes).
RACE_WEEKEND_CRON = "30 */3 * * 5,6,0"


def dag_schedule() -> str | None:
    """The DAG's cron: ``F1PIPE_DAG_SCHEDULE`` when set (``none``: manual runs only), else
    :data:`RACE_WEEKEND_CRON`."""
    value = os.environ.get("F1PIPE_DAG_SCHEDULE", RACE_WEEKEND_CRON).strip()
    return None if value.lower() in ("", "none", "manual") else value


def run_season(params: dict, context) -> int:
    """The season to load: the ``season`` param of a manual run; for a scheduled run
    (or an empty param) the year of the run's date."""
    scheduled = str(context["dag_run"].run_type).lower().endswith("scheduled")
    if params["season"] is not None and not scheduled:
        return params["season"]
    date = context.get("logical_date") or context["dag_run"].run_after
    return date.year


TASK_DEFAULTS = {
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "execution_timeout": timedelta(minutes=30),
}


@dag(
    dag_id="f1_pipeline",
    schedule=dag_schedule(),
    start_date=pendulum.datetime(2024, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=True,
    default_args=TASK_DEFAULTS,
    tags=["f1", "f1pipe"],
    doc_md=__doc__,
    params={
        "season": Param(2024, type=["null", "integer"], minimum=1950, maximum=2100,
                        description="Championship year; empty for the year of the run's "
                        "date (what scheduled runs use)"),
        "round": Param(None, type=["null", "integer"], minimum=1, maximum=30,
                       description="Round number; empty for the whole season"),
        "sessions": Param(["R", "S"], type="array", items={"type": "string", "enum": SESSIONS},
                          minItems=1, description="FastF1 session codes (SQ and SS stand "
                          "for each other); rounds without one skip it"),
        "datasets": Param(["results"], type="array", items={"type": "string", "enum": DATASETS},
                          description="Datasets to move; all but results need a round"),
        "allow_missing": Param(True, type="boolean",
                               description="Go on when some rounds have no data yet"),
    },
)
def f1_pipeline():
    @task
    def produce() -> dict:
        """Produce the requested datasets from FastF1 to Kafka; returns the topics written
        and the sessions produced."""
        from f1pipe.config import load_settings
        from f1pipe.pipeline import PipelineRequest, produce_step, produced_sessions

        context = get_current_context()
        params = context["params"]
        request = PipelineRequest(
            season=run_season(params, context), round=params["round"],
            sessions=tuple(params["sessions"]),
            datasets=tuple(params["datasets"]), allow_missing=params["allow_missing"],
        )
        produced = produce_step(load_settings(), request)
        missing = [f"{i.label}: {i.reason}" for i in produced.missing()]
        print(f"produced {produced.delivered} messages to {produced.topics}; "
              f"not available: {missing or 'none'}")
        return {"topics": produced.topics, "sessions": produced_sessions(produced)}

    @task
    def consume(topics: list[str]) -> str:
        """Land the topics in the lake until they are drained; returns the lake URL."""
        from f1pipe.config import load_settings
        from f1pipe.pipeline import consume_step

        consumed = consume_step(load_settings(), topics)
        print(f"consumed {consumed.records} records into {consumed.objects} objects; "
              f"dead letters {consumed.dead_letters}")
        return consumed.sink

    @task
    def load(lake: str) -> str:
        """Load new lake objects into the warehouse model; returns the warehouse URL."""
        from f1pipe.config import load_settings
        from f1pipe.pipeline import load_step

        settings = load_settings()
        loaded = load_step(settings, lake)
        print(f"loaded {loaded.objects_loaded} objects, {loaded.rows_total} rows")
        return settings.warehouse

    @task
    def transform(warehouse: str) -> str:
        """Build the race analytics marts (dbt run in .venv-dbt); returns the warehouse URL."""
        from f1pipe.config import load_settings
        from f1pipe.pipeline import transform_step

        transformed = transform_step(load_settings(), warehouse)
        print(f"built {len(transformed.models)} marts in {transformed.elapsed_s:.1f} s")
        return warehouse

    @task
    def check(warehouse: str, sessions: list[str]) -> None:
        """Run the data-quality checks on this run's sessions and the marts' dbt tests; fails
        the run when one fails."""
        from f1pipe.config import load_settings
        from f1pipe.pipeline import check_step

        report = check_step(load_settings(), warehouse, sessions=sessions)
        print(f"{report.passed_count} checks passed on {len(sessions)} session(s)")

    produced = produce()
    check(transform(load(consume(produced["topics"]))), produced["sessions"])


f1_pipeline()
