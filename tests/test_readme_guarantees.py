"""The README's bad-input guarantees, word for word, each with the tests that check it."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
GUARANTEES = {
    "A bad message goes to the dead-letter topic with its reason.": [
        "tests.lake.test_hostile_messages:"
        "test_hostile_fields_are_dead_letters_and_nothing_leaves_the_lake",
        "tests.test_schemas:test_a_value_its_column_cannot_hold_is_a_schema_violation",
    ],
    "A bad value goes to `load_rejects`.": [
        "tests.warehouse.test_rejects:"
        "test_unconvertible_rows_are_quarantined_and_the_rest_loads",
    ],
    "Nothing is written outside the lake.": [
        "tests.lake.test_hostile_messages:"
        "test_hostile_fields_are_dead_letters_and_nothing_leaves_the_lake",
        "tests.lake.test_folder_sink:"
        "test_the_folder_sink_refuses_a_path_outside_the_lake_at_once",
        "tests.lake.test_naming:test_a_key_part_that_is_not_a_plain_token_is_refused",
    ],
    "A record's own fault never blocks its partition.": [
        "tests.kafka.test_hostile_messages:"
        "test_a_5mb_malformed_message_is_dead_lettered_truncated_and_committed",
        "tests.kafka.test_hostile_messages:"
        "test_a_message_of_another_topics_schema_is_dead_lettered",
    ],
    "Every message ends exactly once: landed, dead-lettered or rejected.": [
        "tests.kafka.test_property_hostile:"
        "test_every_message_ends_exactly_once_somewhere_with_a_reason",
        "tests.chaos.test_chaos:test_kill_9_anywhere_loses_and_duplicates_nothing",
    ],
    "Reads never write.": [
        "tests.warehouse.test_read_only:test_duckdb_query_cannot_write_or_touch_other_files",
        "tests.warehouse.test_read_only:test_snowflake_query_runs_one_select_only",
        "tests.warehouse.test_read_only:test_reads_of_a_missing_warehouse_create_nothing",
    ],
}


@pytest.mark.parametrize("guarantee", sorted(GUARANTEES))
def test_the_readme_states_each_guarantee_that_a_test_checks(guarantee):
    assert f"**{guarantee}**" in " ".join(README.read_text().split())
    for ref in GUARANTEES[guarantee]:
        module, name = ref.split(":")
        assert callable(getattr(importlib.import_module(module), name)), ref
