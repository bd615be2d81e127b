{#
  Championship standings after every loaded round of a season, for one kind of competitor
  (`competitor`: the column naming a driver or a team in stg_results).
  Points: races and sprints (session_type) as scored in f1_results. Order: points, then the
  official countback (most wins, then most 2nd places, ... in races, by classified
  position); competitors tied all the way share the position. As warehouse/standings.py.
#}
{% macro standings(competitor, with_team=false) %}
{% set n = var('countback_positions') %}
{% set w = "(partition by g.season, g.competitor order by g.after_round rows between unbounded preceding and current row)" %}
with results as (
    select * from {{ ref('stg_results') }}
    where session_type in ({{ "'" ~ var('race_session_types') | join("', '") ~ "'" }})
),

per_round as (
    select
        season, round, {{ competitor }} as competitor,
        sum(points) as points
        {%- for p in range(1, n + 1) %},
        sum(case when session_type = 'race' and finish_position = {{ p }} then 1 else 0 end)
            as p{{ p }}
        {%- endfor %}
        {%- if with_team %},
        max(case when session_type = 'race' then team_name end) as race_team,
        max(team_name) as any_team
        {%- endif %}
    from results
    group by season, round, {{ competitor }}
),

rounds as (
    select distinct season, round from per_round
),

entrants as (
    select season, competitor, min(round) as first_round from per_round group by season, competitor
),

grid as (
    select r.season, r.round as after_round, e.competitor
    from rounds as r
    inner join entrants as e on e.season = r.season and e.first_round <= r.round
),

running as (
    select
        g.season, g.after_round, g.competitor,
        sum(coalesce(p.points, 0)) over {{ w }} as points
        {%- for p in range(1, n + 1) %},
        sum(coalesce(p.p{{ p }}, 0)) over {{ w }} as p{{ p }}
        {%- endfor %}
        {%- if with_team %},
        -- the driver's latest round so far (his team is the one of that round)
        max(case when p.competitor is not null then g.after_round end) over {{ w }}
            as last_raced_round
        {%- endif %}
    from grid as g
    left join per_round as p
        on p.season = g.season and p.round = g.after_round and p.competitor = g.competitor
)

select
    r.season, r.after_round,
    rank() over (
        partition by r.season, r.after_round
        order by r.points desc{% for p in range(1, n + 1) %}, r.p{{ p }} desc{% endfor %}
    ) as position,
    r.competitor as {{ 'driver' if with_team else 'team_name' }},
    {%- if with_team %}
    coalesce(t.race_team, t.any_team) as team_name,
    {%- endif %}
    r.points,
    r.p1 as wins
from running as r
{%- if with_team %}
left join per_round as t
    on t.season = r.season and t.round = r.last_raced_round and t.competitor = r.competitor
{%- endif %}
{% endmacro %}
