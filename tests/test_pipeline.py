"""The pipeline request: bad datasets and missing rounds stop before any work."""

import pytest

from f1pipe.errors import F1PipeError
from f1pipe.pipeline import PipelineRequest


def test_session_datasets_need_a_round():
    with pytest.raises(F1PipeError, match="need a round: add --round N"):
        PipelineRequest(season=2018, datasets=("results", "laps"))


def test_unknown_dataset_is_named():
    with pytest.raises(F1PipeError, match="unknown dataset.*tyres"):
        PipelineRequest(season=2018, round=4, datasets=("tyres",))


def test_results_alone_run_a_whole_season():
    assert PipelineRequest(season=2024).round is None


def test_live_datasets_are_not_run_by_the_batch_pipeline():
    with pytest.raises(F1PipeError, match="unknown dataset.*live_timing"):
        PipelineRequest(season=2018, round=4, datasets=("live_timing",))


def test_races_and_sprints_by_default_and_codes_normalised():
    assert PipelineRequest(season=2024).sessions == ("R", "S")
    assert PipelineRequest(season=2024, sessions=("q", "Sprint Shootout", "Q")).sessions == (
        "Q", "SS")


def test_unknown_session_is_named():
    with pytest.raises(F1PipeError, match="unknown session 'FP4'"):
        PipelineRequest(season=2024, sessions=("FP4",))
