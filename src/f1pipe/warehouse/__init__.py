"""Warehouse: lake -> DuckDB or Snowflake, the model, checks and queries."""
