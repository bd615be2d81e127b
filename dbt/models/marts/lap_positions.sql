-- The lap chart: every driver's position at the end of every lap of a race or sprint, from
-- the times at which the drivers completed that lap (first across the line = 1st). Lap 0 is
-- the grid: the starters (drivers with laps) in grid order, pit-lane starters last.
with laps as (
    select * from {{ ref('stg_laps') }}
    where session_type in ({{ "'" ~ var('race_session_types') | join("', '") ~ "'" }})
),

completed as (
    select
        season, round, session, driver_number, abbreviation, team_name, lap_number,
        lap_end_time_ms,
        row_number() over (
            partition by season, round, session, lap_number
            order by lap_end_time_ms, driver_number) as position
    from laps
    where is_completed and lap_end_time_ms is not null
),

starters as (
    select distinct season, round, session, driver_number from laps
),

grid as (
    select
        r.season, r.round, r.session, r.driver_number, r.abbreviation, r.team_name,
        0 as lap_number,
        cast(null as bigint) as lap_end_time_ms,
        row_number() over (
            partition by r.season, r.round, r.session
            order by case when r.grid_position > 0 then r.grid_position else 1000 end,
                     r.position, r.driver_number) as position
    from {{ ref('stg_results') }} as r
    inner join starters as s
        on s.season = r.season and s.round = r.round and s.session = r.session
        and s.driver_number = r.driver_number
)

select * from grid
union all
select * from completed
