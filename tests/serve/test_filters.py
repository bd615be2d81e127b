"""The query string -> parameterised WHERE clause (no server, no warehouse)."""

from __future__ import annotations

import re
from datetime import datetime

import pytest

from f1pipe.serve.endpoints import ENDPOINTS, column_types
from f1pipe.serve.filters import (
    MAX_LIMIT,
    TEXT_PATTERN,
    TEXT_REFUSED,
    FilterError,
    parse,
    split_pairs,
)

LAPS = column_types()["laps"]


def test_openf1_operators_arrive_as_they_are_sent():
    # lap_number>=10 is parsed by HTTP libraries as key 'lap_number>' and value '10'
    assert split_pairs("lap_number>=10&lap_number<20&lap_number%3E%3D3&position!=1") == [
        ("lap_number", ">=", "10"), ("lap_number", "<", "20"), ("lap_number", ">=", "3"),
        ("position", "!=", "1")]


def test_conditions_become_placeholders_and_typed_values():
    query = parse("season=2024&round=12&driver_number=44&driver_number=1&lap_number>=10"
                  "&compound=SOFT&deleted=false&lap_end_utc<2024-07-07T15:00:00Z", LAPS, "laps")
    where, params = query.where()
    assert where == ('WHERE "season" = ? AND "round" = ? AND "driver_number" IN (?, ?) AND '
                     '"compound" = ? AND "deleted" = ? AND "lap_number" >= ? AND '
                     '"lap_end_utc" < CAST(? AS TIMESTAMP)')
    assert params == [2024, 12, 44, 1, "SOFT", False, 10, datetime(2024, 7, 7, 15, 0)]
    assert "2024" not in where and "SOFT" not in where


def test_format_limit_and_offset_are_not_filters():
    query = parse("format=csv&limit=5&offset=10", LAPS, "laps")
    assert (query.format, query.limit, query.offset, query.conditions) == ("csv", 5, 10, [])


@pytest.mark.parametrize(("query", "message"), [
    ("foo=1", "unknown filter 'foo' on /v1/laps: use one of season, round"),
    ("driver_number=44abc", "driver_number: '44abc' is not an integer"),
    ("driver_number=99999999999999999999", "driver_number: '99999999999999999999' is not an"),
    ("speed_st_kmh=nan", "speed_st_kmh: 'nan' is not a finite number"),
    ("deleted=maybe", "deleted: 'maybe' is not true or false"),
    ("deleted>=true", "deleted is true or false: compare it with = or !="),
    ("lap_end_utc=yesterday", "lap_end_utc: 'yesterday' is not an ISO 8601 date"),
    ("format=xml", "format 'xml': use format=json or format=csv"),
    ("limit=0", f"limit=0: must be from 1 to {MAX_LIMIT}"),
    (f"limit={MAX_LIMIT + 1}", f"limit={MAX_LIMIT + 1}: must be from 1 to {MAX_LIMIT}"),
    ("offset=-1", "offset=-1: must be from 0"),
    ("limit>5", "limit takes '=': limit=5"),
    ("season", "filter 'season' has no operator"),
    ("compound=SOFT' OR '1'='1", "compound: quotes, semicolons"),
    ("compound=SOFT;DROP TABLE laps", "compound: quotes, semicolons"),
    ("compound=SOFT--", "compound: quotes, semicolons"),
])
def test_bad_filters_are_refused_with_the_fix(query, message):
    with pytest.raises(FilterError) as err:
        parse(query, LAPS, "laps")
    assert str(err.value).startswith(message)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("value", [
    "Mercedes-Benz", "São Paulo", "+1 Lap", "", "-", "RB F1 Team", "a--b", "x'y", "a;b",
    "back\\slash", "star*", "tab\there", "don't", "/* c */", "Alfa Romeo-", "--",
])
def test_the_openapi_pattern_says_what_the_server_accepts(value):
    assert (re.fullmatch(TEXT_PATTERN.strip("^$"), value) is not None) == \
        (TEXT_REFUSED.search(value) is None)


def test_every_endpoint_has_typed_columns_and_orders_by_its_own_columns():
    types = column_types()
    assert set(types) == set(ENDPOINTS)
    for name, endpoint in ENDPOINTS.items():
        assert set(endpoint.order_by) <= set(types[name]), name
        assert {"season"} <= set(types[name]), name
