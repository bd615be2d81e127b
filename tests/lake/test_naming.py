import pytest

from f1pipe.lake.naming import UnsafeNameError, object_name


def test_object_name_follows_the_connect_layout_with_a_zero_padded_start_offset():
    name = object_name("f1.laps", 2, 1234, (2024, 6, "R"), "jsonl")
    assert name == "f1.laps/season=2024/round=6/session=R/f1.laps+2+0000001234.jsonl"


def test_object_names_sort_in_offset_order():
    names = [object_name("t", 0, offset, (2024, 1, "Q"), "parquet") for offset in (9, 10, 100)]
    assert names == sorted(names)
    assert all(n.endswith(".parquet") for n in names)


@pytest.mark.parametrize(("parts", "refused"), [
    (("f1.laps", 0, 0, (2024, 6, "../../x")), "session '../../x'"),
    (("f1.laps", 0, 0, (2024, 6, "/etc")), "session '/etc'"),
    (("f1.laps", 0, 0, (2024, 6, "R\x00")), "session 'R\\\\x00'"),
    (("f1.laps", 0, 0, (2024, 6, "..")), "session '..'"),
    (("f1.laps", 0, 0, (2024, 6, "")), "session ''"),
    (("../f1.laps", 0, 0, (2024, 6, "R")), "topic '../f1.laps'"),
    (("f1.laps", -1, 0, (2024, 6, "R")), "partition -1"),
    (("f1.laps", 0, 0, ("2024/..", 6, "R")), "season '2024/..'"),
    (("f1.laps", 0, 0, (2024, True, "R")), "round True"),
])
def test_a_key_part_that_is_not_a_plain_token_is_refused(parts, refused):
    with pytest.raises(UnsafeNameError, match=f"refusing lake object name: {refused} is not"):
        object_name(*parts, "jsonl")
