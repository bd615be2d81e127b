"""The producer step's rounds: each program's figure is its median round."""

from bench.run import median_round


def test_the_median_round_is_kept_with_every_rate_and_the_worst_memory():
    rounds = [{"per_s": 90_000.0, "seconds": 2.2, "peak_rss_mb": 1_000.0, "input_rss_mb": 900.0},
              {"per_s": 60_000.0, "seconds": 3.3, "peak_rss_mb": 1_200.0, "input_rss_mb": 950.0},
              {"per_s": 75_000.0, "seconds": 2.7, "peak_rss_mb": 990.0, "input_rss_mb": 920.0}]
    figure = median_round(rounds)
    assert (figure["per_s"], figure["seconds"]) == (75_000.0, 2.7)
    assert figure["rounds_per_s"] == [90_000, 60_000, 75_000]
    assert (figure["peak_rss_mb"], figure["input_rss_mb"]) == (1_200.0, 950.0)  # 250 above


def test_one_round_or_an_even_count_keeps_a_measured_round():
    assert median_round([{"per_s": 5.0}]) == {"per_s": 5.0, "rounds_per_s": [5]}
    assert median_round([{"per_s": 8.0}, {"per_s": 4.0}])["per_s"] == 4.0
