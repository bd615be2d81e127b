-- One row per session with results: winner, pole, fastest lap, neutralisations, retirements.
with results as (
    select * from {{ ref('stg_results') }}
),

sessions as (
    select
        season, round, session,
        max(event_name) as event_name,
        count(*) as entries,
        sum(case when classified_position = 'R' then 1 else 0 end) as retirements,
        max(case when position = 1 then driver end) as winner,
        max(case when position = 1 then team_name end) as winner_team,
        max(case when grid_position = 1 then driver end) as pole
    from results
    group by season, round, session
),

fastest as (
    select season, round, session,
        max(abbreviation) as fastest_lap_driver,
        max(lap_number) as fastest_lap_number,
        max(lap_time_ms) as fastest_lap_time_ms
    from {{ ref('fastest_laps') }}
    where session_rank = 1
    group by season, round, session
),

neutralisations as (
    select season, round, session,
        sum(case when status = '4' then 1 else 0 end) as safety_cars,
        sum(case when status = '6' then 1 else 0 end) as virtual_safety_cars,
        sum(case when status = '5' then 1 else 0 end) as red_flags
    from {{ ref('stg_track_status') }}
    group by season, round, session
)

select
    s.season, s.round, s.session, s.event_name, s.entries,
    s.winner, s.winner_team, s.pole,
    f.fastest_lap_driver, f.fastest_lap_number, f.fastest_lap_time_ms,
    n.safety_cars, n.virtual_safety_cars, n.red_flags,
    s.retirements
from sessions as s
left join fastest as f
    on f.season = s.season and f.round = s.round and f.session = s.session
left join neutralisations as n
    on n.season = s.season and n.round = s.round and n.session = s.session
