"""Set-up of the server tests: one warehouse built through the real pipeline (FastF1 on the
recorded cache -> Kafka -> lake -> DuckDB) for the session, the server on a free port, and
headless Chromium driven by Playwright."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from f1pipe.config import Settings
from f1pipe.pipeline import PipelineRequest, run_pipeline
from f1pipe.serve.app import ServeOptions, running

CHROMIUM = Path(os.environ.get("F1PIPE_CHROMIUM", "/usr/bin/chromium"))
RACE_2018 = ("results", "laps", "race_control", "weather", "track_status")


@pytest.fixture(scope="session")
def warehouse_settings(kafka_bootstrap, fastf1_offline, tmp_path_factory) -> Settings:
    """Settings whose DuckDB warehouse holds 2024 round 12 (results) and 2018 round 4 (results,
    laps, race control, track status), loaded by the project's own pipeline."""
    from f1pipe.config import load_settings

    root = tmp_path_factory.mktemp("serve-warehouse")
    prefix = f"serve-{uuid.uuid4().hex[:6]}-"
    settings = fastf1_offline.apply(load_settings(
        kafka_broker=kafka_bootstrap, state_dir=root / "state", topic_prefix=prefix,
        kafka_topic=f"{prefix}results", dead_letter_topic=f"{prefix}dlq",
        lake=f"file://{root}/lake", warehouse=f"duckdb:///{root}/f1.duckdb"))
    run_pipeline(settings, PipelineRequest(2024, 12))
    run_pipeline(settings, PipelineRequest(2018, 4, datasets=RACE_2018, allow_missing=True))
    return settings


@pytest.fixture(scope="session")
def warehouse_file(warehouse_settings) -> Path:
    return Path(warehouse_settings.warehouse.removeprefix("duckdb:///"))


@pytest.fixture(scope="session")
def base_url(warehouse_settings) -> Iterator[str]:
    """The server on a free port (no live feed), for the whole session."""
    with running(warehouse_settings, ServeOptions(port=0, live=False)) as url:
        yield url


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory) -> Path:
    """Where the browser tests write their screenshots (F1PIPE_TEST_ARTIFACTS, else a tmp
    folder)."""
    folder = os.environ.get("F1PIPE_TEST_ARTIFACTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium, driven by Playwright (never Playwright's own download)."""
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"{CHROMIUM} not found: install it with `apt-get install -y chromium "
                    "chromium-driver` (.ci/run does), or set F1PIPE_CHROMIUM")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


class PageWatch:
    """A page with its console errors and failed requests collected."""

    def __init__(self, browser):
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(
            f"request failed: {r.url} {r.failure}") if "/live/events" not in r.url else None)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def watch(chromium) -> Iterator[PageWatch]:
    w = PageWatch(chromium)
    yield w
    w.close()
