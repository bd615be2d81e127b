"""The end-of-run report: missing rounds compacted into ranges."""

from f1pipe.reporting import describe_missing


def test_missing_rounds_are_compacted_per_season_and_dataset():
    labels = [f"2024 round {n} (Some Grand Prix) R results" for n in (1, 3, 4, 5, 13, 24)]
    labels.append("2018 round 4 (Azerbaijan Grand Prix) R weather")
    assert describe_missing(labels) == (
        "2024 R results: rounds 1, 3-5, 13, 24; 2018 R weather: round 4"
    )


def test_unrecognised_labels_are_kept_as_they_are():
    assert describe_missing(["something else"]) == "something else"


def test_where_line_follows_the_settings(tmp_path, monkeypatch):
    from f1pipe.config import load_settings
    from f1pipe.reporting import where_line

    monkeypatch.chdir(tmp_path)
    assert where_line(load_settings()) == (
        f"lake: {tmp_path}/lake   warehouse: {tmp_path}/f1.duckdb   "
        f"broker log: {tmp_path}/.state/kafka/kafka.log")
    other = load_settings(lake="s3://bucket/f1", warehouse="duckdb:////data/f1.duckdb")
    assert where_line(other).startswith("lake: s3://bucket/f1   warehouse: /data/f1.duckdb   ")
