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
    import fakesnow.copy_into as copy_into
    import fakesnow.cursor

    from tests.fixtures.snowflake import (
        FAKE_ACCOUNT,
        _describe_with_temporary,
        _no_hive,
        _snowflake_errors,
    )

    copy_into.ReadJSON.read_expression = _no_hive("read_json_objects")
    copy_into.ReadParquet.read_expression = _no_hive("read_parquet")
    copy_into._describe_table = _describe_with_temporary(copy_into._describe_table)
    fakesnow.cursor.copy_into = _snowflake_errors(fakesnow.cursor.copy_into)
    account = {**FAKE_ACCOUNT, "snowflake_password": SecretStr(FAKE_ACCOUNT["snowflake_password"])}
    with fakesnow.patch():
        yield settings.model_copy(update=account)
