import json
import math

import numpy as np
import pandas as pd

from f1pipe.sources.convert import boolean, integer, iso_utc, missing, ms, number, text


def test_missing_values_become_none():
    for value in (None, float("nan"), np.nan, pd.NaT, pd.NA, "", "  "):
        assert missing(value)
        assert text(value) is None and integer(value) is None and number(value) is None
        assert ms(value) is None and iso_utc(value) is None and boolean(value) is None


def test_timedeltas_become_whole_milliseconds():
    assert ms(pd.Timedelta("0 days 01:22:27.059000")) == 4_947_059
    assert ms(np.timedelta64(1_465_400_000, "ns")) == 1465  # rounded, not truncated
    assert ms(pd.Timedelta(microseconds=1_465_600)) == 1466


def test_timestamps_become_iso_utc():
    assert iso_utc(pd.Timestamp("2024-07-07 14:00:00")) == "2024-07-07T14:00:00.000Z"
    local = pd.Timestamp("2024-07-07 15:00:00.123", tz="Europe/London")
    assert iso_utc(local) == "2024-07-07T14:00:00.123Z"


def test_numbers_keep_their_values():
    assert integer(19.0) == 19 and isinstance(integer(19.0), int)
    assert integer("63") == 63 and integer("R") is None
    assert number(np.float64(25.0)) == 25.0 and isinstance(number(np.float64(1)), float)
    assert boolean(np.True_) is True
    json.dumps([number(1.5), integer(2.0)], allow_nan=False)
    assert not math.isnan(number(0.0))
