-- Standings after round r = the sums of f1_results.points of races and sprints up to r,
-- per driver and per team.
with results as (
    select * from {{ ref('stg_results') }}
    where session_type in ({{ "'" ~ var('race_session_types') | join("', '") ~ "'" }})
),

drivers as (
    select d.season, d.after_round, d.driver as competitor, d.points,
        sum(r.points) as expected
    from {{ scoped(ref('driver_standings')) }} as d
    left join results as r
        on r.season = d.season and r.round <= d.after_round and r.driver = d.driver
    group by d.season, d.after_round, d.driver, d.points
),

teams as (
    select t.season, t.after_round, t.team_name as competitor, t.points,
        sum(r.points) as expected
    from {{ scoped(ref('constructor_standings')) }} as t
    left join results as r
        on r.season = t.season and r.round <= t.after_round
        and coalesce(r.team_name, '?') = t.team_name
    group by t.season, t.after_round, t.team_name, t.points
)

select 'driver' as kind, season, after_round, competitor, points, expected
from drivers where coalesce(expected, 0) <> points
union all
select 'team' as kind, season, after_round, competitor, points, expected
from teams where coalesce(expected, 0) <> points
