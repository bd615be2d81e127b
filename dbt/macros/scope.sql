{#
  The scope of an incremental transform or of a run's checks.

  `f1pipe transform` (DuckDB) runs the compiled models itself, only for the sessions whose
  facts changed: it compiles the project once with `--vars '{f1pipe_scoped: true}'` and fills
  a temporary table `f1pipe_transform_scope` (season, round, session) before running the
  compiled SQL. Without that variable (`dbt run`, `dbt build`, Snowflake) every macro here
  renders the whole table, as a plain dbt project does.

  season_in_scope(): a filter on the facts read by the staging models, at season grain (the
    standings of a round depend on every earlier round of its season).
  scoped(relation): the relation restricted to the scope (a subquery), at the grain of the
    relation: season for the models of var('season_grain_models'), else session.
  get_where_subquery(relation): dbt's hook for generic tests, scoped the same way.

  dbt itself (`dbt test` on Snowflake) is scoped by var('f1pipe_sessions') instead: the
  sessions as a list, rendered as a derived table in place of f1pipe_transform_scope.
#}
{% macro is_scoped() -%}
  {{ return(var('f1pipe_scoped', false) or var('f1pipe_sessions', none) is not none) }}
{%- endmacro %}

{% macro scope_relation() -%}
  {%- set sessions = var('f1pipe_sessions', none) -%}
  {%- if sessions is none -%}
    f1pipe_transform_scope
  {%- elif sessions | length == 0 -%}
    (select cast(null as integer) as season, cast(null as integer) as round,
            cast(null as varchar) as session where 1 = 0)
  {%- else -%}
    (
    {%- for s in sessions %}
      select {{ s[0] | int }} as season, {{ s[1] | int }} as round,
             '{{ s[2] | replace("'", "") }}' as session{{ " union all" if not loop.last }}
    {%- endfor %})
  {%- endif -%}
{%- endmacro %}
{% macro season_in_scope() -%}
  {%- if is_scoped() -%}
    season in (select season from {{ scope_relation() }} as scope)
  {%- else -%}
    1 = 1
  {%- endif -%}
{%- endmacro %}

{% macro scope_condition(identifier) -%}
  {%- if identifier in var('season_grain_models') -%}
    season in (select season from {{ scope_relation() }} as scope)
  {%- else -%}
    (season, round, session) in (select season, round, session from {{ scope_relation() }} as scope)
  {%- endif -%}
{%- endmacro %}

{% macro scoped(relation) -%}
  {%- if is_scoped() -%}
    (select * from {{ relation }} where {{ scope_condition(relation.identifier) }})
  {%- else -%}
    {{ relation }}
  {%- endif -%}
{%- endmacro %}

{% macro get_where_subquery(relation) -%}
  {%- set where = config.get('where', '') -%}
  {%- set scope = is_scoped() -%}
  {%- if where or scope -%}
    {%- set filtered -%}
      (select * from {{ relation }} where {{ where if where else '1 = 1' }}
        {%- if scope %} and {{ scope_condition(relation.identifier) }}{% endif %}) dbt_subquery
    {%- endset -%}
    {%- do return(filtered) -%}
  {%- else -%}
    {%- do return(relation) -%}
  {%- endif -%}
{%- endmacro %}
