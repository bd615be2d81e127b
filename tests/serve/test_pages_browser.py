"""The pages in headless Chromium (Debian's, driven by Playwright): what a person sees,
checked against the warehouse; no console errors; a screenshot of each page."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

pytestmark = pytest.mark.integration  # the warehouse is built through Kafka


def db(warehouse_file, sql: str) -> list[tuple]:
    con = duckdb.connect(str(warehouse_file), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def visit(watch, url: str, ready: str, artifacts, shot: str):
    response = watch.page.goto(url)
    assert response.status == 200, url
    watch.page.wait_for_selector(ready, state="attached", timeout=20_000)
    watch.page.wait_for_load_state("networkidle")
    watch.page.screenshot(path=str(artifacts / shot), full_page=True)
    return watch.page


def test_british_gp_page_shows_ham_first_with_25_points(watch, base_url, artifacts):
    page = visit(watch, f"{base_url}/race/2024/12", "#classification tbody tr", artifacts,
                 "race-2024-12.png")
    first = page.locator("#classification tbody tr").first
    assert first.locator("td.driver").inner_text() == "HAM"
    assert first.locator("td.points").inner_text() == "25"
    assert first.locator("td.pos").inner_text() == "1"
    assert page.locator("#classification tbody tr").count() == 20
    assert "British Grand Prix" in page.locator("h1").inner_text()
    assert page.locator("#no-laps").count() == 1  # results only: no lap chart, said so
    assert watch.errors == []


def chart_leaders(page) -> dict[int, str]:
    """Lap -> the driver the drawn lap chart shows in P1 (from the chart's own data)."""
    traces = page.evaluate("""() => document.getElementById('lap-chart').data.map(
        t => ({name: t.name, x: Array.from(t.x), y: Array.from(t.y)}))""")
    leaders: dict[int, str] = {}
    for trace in traces:
        for lap, position in zip(trace["x"], trace["y"], strict=True):
            if position == 1 and lap > 0:
                assert lap not in leaders, f"two leaders on lap {lap}"
                leaders[lap] = trace["name"]
    return leaders


def changes(leaders: dict[int, str]) -> list[tuple[int, str, str]]:
    laps = sorted(leaders)
    return [(b, leaders[a], leaders[b]) for a, b in zip(laps, laps[1:], strict=False)
            if leaders[a] != leaders[b]]


def test_azerbaijan_lap_chart_has_every_driver_and_the_lead_changes_of_the_laps_table(
        watch, base_url, warehouse_file, artifacts):
    page = visit(watch, f"{base_url}/race/2018/4", "#lap-chart .scatterlayer .trace",
                 artifacts, "race-2018-4.png")
    drivers = db(warehouse_file, "SELECT count(*) FROM f1_results WHERE season = 2018 AND "
                 "round = 4 AND session = 'R'")[0][0]
    assert drivers == 20
    assert page.locator("#lap-chart .scatterlayer .trace").count() == drivers
    names = page.evaluate("document.getElementById('lap-chart').data.map(t => t.name)")
    assert len(set(names)) == drivers

    table = dict(db(warehouse_file, "SELECT lap_number, abbreviation FROM laps WHERE "
                    "season = 2018 AND round = 4 AND session = 'R' AND position = 1"))
    drawn = chart_leaders(page)
    assert drawn == table
    expected = changes(table)
    assert expected, "the 2018 Azerbaijan GP had lead changes"
    assert changes(drawn) == expected
    shown = [int(x) for x in page.locator(".lead-change").evaluate_all(
        "els => els.map(e => e.dataset.lap)")]
    assert shown == [lap for lap, _, _ in expected]
    for chart in ("strategy-chart", "gap-chart", "laptime-chart", "race-control-chart"):
        assert page.locator(f"#{chart} .main-svg").count() > 0, chart
    # positions 1..20 top to bottom, no empty row for a 21st car
    assert page.evaluate("document.getElementById('lap-chart').layout.yaxis.range") \
        == [20.5, 0.5]
    # the strategy chart names each compound once in its legend
    compounds = {r[0] for r in db(warehouse_file, "SELECT DISTINCT compound FROM laps WHERE "
                                  "season = 2018 AND round = 4 AND session = 'R' AND "
                                  "compound IN ('HYPERSOFT', 'ULTRASOFT', 'SUPERSOFT', 'SOFT')")}
    legend = page.evaluate("document.getElementById('strategy-chart').data"
                           ".filter(t => t.showlegend).map(t => t.name)")
    assert len(legend) == len(set(legend)) and compounds <= set(legend), legend
    assert page.locator("#race-control tbody tr").count() == db(
        warehouse_file, "SELECT count(*) FROM race_control_messages WHERE season = 2018")[0][0]
    assert watch.errors == []


def test_season_page_standings_and_progression(watch, base_url, artifacts):
    page = visit(watch, f"{base_url}/season/2024", "#progression-chart .main-svg", artifacts,
                 "season-2024.png")
    first = page.locator("#standings tbody tr").first
    assert (first.locator("td.driver").inner_text(), first.locator("td.points").inner_text()) \
        == ("HAM", "25")
    traces = page.evaluate("document.getElementById('progression-chart').data.length")
    assert traces == page.locator("#standings tbody tr").count() == 20
    assert watch.errors == []


@pytest.mark.parametrize("path", ["/", "/season/2018", "/docs", "/race/2018/4?session=R"])
def test_other_pages_have_no_console_errors(watch, base_url, artifacts, path):
    name = path.strip("/").replace("/", "-").replace("?session=", "-") or "index"
    visit(watch, f"{base_url}{path}", "main", artifacts, f"{name}.png")
    assert watch.errors == []


def test_missing_race_is_a_404_page_naming_it(watch, base_url):
    response = watch.page.goto(f"{base_url}/race/1999/1")
    assert response.status == 404
    assert watch.page.locator("#message").inner_text() == \
        "no session 1999 round 1 R in the warehouse"


def test_report_is_one_file_that_draws_offline(watch, warehouse_settings, tmp_path, artifacts):
    out = tmp_path / "race.html"
    env = {**os.environ, "F1PIPE_WAREHOUSE": warehouse_settings.warehouse}
    done = subprocess.run([sys.executable, "-m", "f1pipe.cli", "report", "--season", "2018",
                           "--round", "4", "--out", str(out)], capture_output=True, text=True,
                          env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {out}")
    html = out.read_text()
    assert "<script src=" not in html and "<link rel=\"stylesheet\"" not in html
    requested: list[str] = []
    watch.page.on("request", lambda r: requested.append(r.url))
    watch.page.goto(out.as_uri())
    watch.page.wait_for_selector("#lap-chart .scatterlayer .trace", state="attached")
    assert watch.page.locator("#lap-chart .scatterlayer .trace").count() == 20
    assert [u for u in requested if not u.startswith("file:")] == []
    watch.page.screenshot(path=str(artifacts / "report-2018-4.png"))
    assert watch.errors == []

    missing = subprocess.run([sys.executable, "-m", "f1pipe.cli", "report", "--season", "1999",
                              "--round", "1", "--out", str(tmp_path / "x.html")],
                             capture_output=True, text=True, env=env, timeout=120)
    assert missing.returncode == 1
    assert "error: no session 1999 round 1 R in the warehouse" in " ".join(missing.stderr.split())
