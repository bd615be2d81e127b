{#
  JSON access that DuckDB (JSON text) and Snowflake (VARIANT) spell differently.
  driver_entry(data, subject): the feed update's entry of one driver, data.Lines[subject].
  json_text(expr, 'A.B'): the text at path A.B of a JSON value (null when absent).
#}
{% macro driver_entry(data, subject) -%}
  {{ return(adapter.dispatch('driver_entry', 'f1pipe')(data, subject)) }}
{%- endmacro %}

{% macro default__driver_entry(data, subject) -%}
  get(get({{ data }}, 'Lines'), {{ subject }})
{%- endmacro %}

{% macro duckdb__driver_entry(data, subject) -%}
  json_extract({{ data }}, '$.Lines."' || {{ subject }} || '"')
{%- endmacro %}

{% macro json_text(expr, path) -%}
  {{ return(adapter.dispatch('json_text', 'f1pipe')(expr, path)) }}
{%- endmacro %}

{% macro default__json_text(expr, path) -%}
  cast(get_path({{ expr }}, '{{ path }}') as varchar)
{%- endmacro %}

{% macro duckdb__json_text(expr, path) -%}
  json_extract_string({{ expr }}, '$.{{ path }}')
{%- endmacro %}
