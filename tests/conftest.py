"""Shared fixtures: the real local stack, started once per test session.

Each service has its own module under ``tests/fixtures``; they are loaded here as plugins.
"""

import pytest

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
    CLI subprocesses, unless the caller chose a folder. The parts of anyio a request uses
    are imported here (:func:`_import_anyio_now`)."""
    import os
    from pathlib import Path

    os.environ.setdefault("F1PIPE_DBT_COMPILED", str(
        Path(__file__).resolve().parents[1] / ".state" / "dbt-compiled-tests"))
    _import_anyio_now()


def _import_anyio_now() -> None:
    """anyio imports its parts on first use (``anyio.open_file``, ``anyio.to_thread``...).
    Under pytest those imports go through pytest's assertion rewriting (anyio is a pytest
    plugin), and a first static file served from the server's thread then parsed anyio's
    source while another thread was compiling too: CPython 3.11 raised ``SystemError: AST
    constructor recursion depth mismatch`` mid-response, and Chromium saw a cut-short
    style.css (ERR_CONTENT_LENGTH_MISMATCH). The parts Starlette imports on a request are
    imported here, in the main thread, before any test starts a server."""
    import anyio

    anyio.open_file, anyio.to_thread  # noqa: B018 - resolves anyio's lazy imports now


# Test files bound to wall-clock time: kills at chosen moments, idle timeouts, latencies,
# broker elections. With pytest-xdist (``make test TEST_WORKERS=2``) they would share the
# cores with the other worker's tests and miss their moments (3 did in 1 of 3 runs on 2
# cores), so ``make test`` runs them after the others, in one process (``-m timed``).
TIMED = (
    "tests/chaos/test_chaos.py",
    "tests/cluster/test_cluster.py",
    "tests/kafka/test_consumer_faults.py",
    "tests/kafka/test_workers.py",
    "tests/live/",
    "tests/serve/test_live_browser.py",
    "tests/warehouse/test_load_kills.py",
)


def pytest_collection_modifyitems(config, items):
    """Mark the tests of :data:`TIMED` files ``timed``."""
    root = config.rootpath
    for item in items:
        path = item.path.relative_to(root).as_posix()
        if path.startswith(TIMED):
            item.add_marker(pytest.mark.timed)
