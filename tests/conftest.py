"""Shared fixtures: the real local stack, started once per test session.

Each service has its own module under ``tests/fixtures``; they are loaded here as plugins.
"""

pytest_plugins = [
    "tests.fixtures.kafka",
    "tests.fixtures.fastf1",
    "tests.fixtures.s3",
    "tests.fixtures.snowflake",
    "tests.fixtures.signalr",
]
