"""The bench's goals: ratios against the peers, peak RSS and latency limits, judged from one
run's figures."""

from bench.report import ratios


def _figure(name, per_s=None, hop="consume", **extra):
    return {"hop": hop, "name": name, "count": 1_000, **({"per_s": per_s} if per_s else {}),
            **extra}


def test_goals_are_judged_from_the_runs_figures():
    figures = [
        _figure("f1pipe consumer -> folder", 40_000, peak_rss_mb=190.4),
        _figure("quixstreams LocalFileSink -> folder", 16_000),
        _figure("plain confluent-kafka loop -> folder (fsync, commit)", 80_000),
        _figure("f1pipe producer (idempotent, acks=all, zstd)", 70_000, hop="producer",
                peak_rss_mb=420.0),
        _figure("f1pipe loader -> DuckDB", 10_000, hop="load", peak_rss_mb=580.0),
        _figure("produce -> DuckDB row at 1,000 msgs/s", hop="latency", p50=300.0, p95=640.0,
                p99=900.0),
    ]
    found = ratios(figures)
    assert found["goals"]["consume->folder f1pipe/quixstreams"] == {
        "goal": 2.0, "measured": 2.5, "met": True}
    assert found["goals"]["consume->folder f1pipe/plain loop"]["met"] is False
    assert found["furthest_from_goal"] == "consume->folder f1pipe/plain loop"
    memory = found["memory_and_latency_goals"]
    assert memory["f1pipe consumer -> folder (1,000)"] == {
        "goal_mb": 250, "peak_rss_mb": 190, "met": True}
    assert memory["f1pipe producer (idempotent, acks=all, zstd) (1,000)"]["met"] is False
    assert memory["f1pipe loader -> DuckDB (1,000)"]["met"] is True
    assert memory["produce -> DuckDB row at 1,000 msgs/s p95"] == {
        "goal_ms": 500.0, "p95_ms": 640, "met": False}


def test_a_producer_holding_its_input_is_judged_on_its_memory_above_it():
    def judged(peak, held):
        figure = _figure("f1pipe producer (idempotent, acks=all, zstd)", 90_000, hop="producer",
                         peak_rss_mb=peak, input_rss_mb=held)
        return next(iter(ratios([figure])["memory_and_latency_goals"].values()))

    assert judged(1_200.0, 880.0) == {"goal_mb": 400, "peak_rss_mb": 1200, "input_rss_mb": 880,
                                      "above_input_mb": 320, "met": True}
    assert judged(1_300.0, 880.0)["met"] is False

