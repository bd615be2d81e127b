"""The end-of-run report: missing rounds compacted into ranges."""

from f1pipe.produce import ProduceItem
from f1pipe.reporting import describe_missing
from f1pipe.sources.schedule import SessionRef


def _missing(season: int, round_: int, session: str, dataset: str) -> ProduceItem:
    ref = SessionRef(season, round_, "Some Grand Prix", None, None, session, "Race", None)
    return ProduceItem(ref, dataset, "topic", state="missing", reason="not recorded")


def test_missing_rounds_are_compacted_per_season_and_dataset():
    items = [_missing(2024, n, "R", "results") for n in (1, 3, 4, 5, 13, 24)]
    items.append(_missing(2018, 4, "R", "weather"))
    assert describe_missing(items) == (
        "2024 R results: rounds 1, 3-5, 13, 24; 2018 R weather: round 4"
    )


def test_sessions_are_told_apart():
    items = [_missing(2024, 5, "S", "results"), _missing(2024, 6, "R", "results")]
    assert describe_missing(items) == "2024 S results: round 5; 2024 R results: round 6"


def test_where_line_follows_the_settings(tmp_path, monkeypatch):
    from f1pipe.config import load_settings
    from f1pipe.reporting import where_line

    monkeypatch.chdir(tmp_path)
    assert where_line(load_settings()) == (
        f"lake: {tmp_path}/lake   warehouse: {tmp_path}/f1.duckdb   "
        f"broker log: {tmp_path}/.state/kafka/kafka.log")
    other = load_settings(lake="s3://bucket/f1", warehouse="duckdb:////data/f1.duckdb")
    assert where_line(other).startswith("lake: s3://bucket/f1   warehouse: /data/f1.duckdb   ")
