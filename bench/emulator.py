"""fakesnow (the Snowflake emulator) in-process, with the same fixes the test fixtures apply
to fakesnow itself (never to f1pipe's SQL): see ``tests/fixtures/snowflake.py``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from pydantic import SecretStr

from f1pipe.config import Settings


@contextmanager
def fakesnow_account(settings: Settings) -> Iterator[Settings]:
    """Settings pointing at an in-process fakesnow account (patched while inside)."""
    import fakesnow
    import pytest

    from tests.fixtures.snowflake import FAKE_ACCOUNT, fakesnow_gap_patches

    account = {**FAKE_ACCOUNT, "snowflake_password": SecretStr(FAKE_ACCOUNT["snowflake_password"])}
    with pytest.MonkeyPatch.context() as patches, fakesnow.patch():
        for target, name, replacement in fakesnow_gap_patches():
            patches.setattr(target, name, replacement)
        yield settings.model_copy(update=account)
