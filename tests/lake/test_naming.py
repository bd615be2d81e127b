from f1pipe.lake.naming import object_name


def test_object_name_follows_the_connect_layout_with_a_zero_padded_start_offset():
    name = object_name("f1.laps", 2, 1234, (2024, 6, "R"), "jsonl")
    assert name == "f1.laps/season=2024/round=6/session=R/f1.laps+2+0000001234.jsonl"


def test_object_names_sort_in_offset_order():
    names = [object_name("t", 0, offset, (2024, 1, "Q"), "parquet") for offset in (9, 10, 100)]
    assert names == sorted(names)
    assert all(n.endswith(".parquet") for n in names)
