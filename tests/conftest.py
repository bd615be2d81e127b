"""Shared fixtures: the real local stack, started once per test session.

Each service has its own module under ``tests/fixtures``; they are loaded here as plugins.
"""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.fastf1",
    "tests.fixtures.s3",
    "tests.fixtures.snowflake",
    "tests.fixtures.signalr",
]


def pytest_configure(config):
    """One compiled dbt project for every test (``f1pipe transform`` compiles ``dbt/`` once
    per version of it, ~10-40 s): kept under the checkout's ``.state/``, inherited by the
    CLI subprocesses, unless the caller chose a folder."""
    import os
    from pathlib import Path

    os.environ.setdefault("F1PIPE_DBT_COMPILED", str(
        Path(__file__).resolve().parents[1] / ".state" / "dbt-compiled-tests"))
