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
