"""Reconciling a (re)subscription's initial state with what ``f1pipe live`` published."""

from __future__ import annotations

import copy

from f1pipe.live.feed import state_diff
from f1pipe.live.timing_state import deep_merge


def test_diff_holds_only_what_changed_and_merging_it_gives_the_new_state():
    old = {"Lines": {"44": {"Position": "1", "Sectors": [{"Value": "30.1"}, {"Value": ""}]},
                     "7": {"Position": "2"}},
           "Withheld": False}
    new = copy.deepcopy(old)
    new["Lines"]["7"]["Position"] = "3"
    new["Lines"]["5"] = {"Position": "2"}
    new["Lines"]["44"]["Sectors"][1] = {"Value": "31.2"}

    diff = state_diff(new, old)

    assert diff == {"Lines": {"7": {"Position": "3"}, "5": {"Position": "2"},
                              "44": {"Sectors": [{"Value": "30.1"}, {"Value": "31.2"}]}}}
    assert deep_merge(copy.deepcopy(old), diff) == new


def test_nothing_new_is_no_update_and_a_first_subscription_is_all_of_it():
    state = {"CurrentLap": 12, "TotalLaps": 51}
    assert state_diff(state, copy.deepcopy(state)) == {}
    assert state_diff(state, {}) == state
    assert state_diff({"Messages": [1, 2]}, {"Messages": {"0": 1}}) == {"Messages": [1, 2]}
