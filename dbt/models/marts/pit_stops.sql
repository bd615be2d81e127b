-- One row per pit stop: the lap a driver came into the pit lane on (its in-lap), and when he
-- left it (the pit-out time of the next lap; null when he did not come out again).
with laps as (
    select
        l.*,
        lead(lap_number) over (
            partition by season, round, session, driver_number order by lap_number) as next_lap,
        lead(pit_out_time_ms) over (
            partition by season, round, session, driver_number order by lap_number)
            as next_pit_out_time_ms
    from {{ ref('stg_laps') }} as l
),

stops as (
    select
        season, round, session, driver_number, abbreviation, team_name,
        lap_number,
        stint_number as stint_before,
        pit_in_time_ms,
        case when next_lap = lap_number + 1 then next_pit_out_time_ms end as pit_out_time_ms
    from laps
    where pit_in_time_ms is not null
)

select
    season, round, session, driver_number, abbreviation, team_name,
    row_number() over (
        partition by season, round, session, driver_number order by lap_number) as stop_number,
    lap_number,
    pit_in_time_ms,
    pit_out_time_ms,
    pit_out_time_ms - pit_in_time_ms as pit_lane_duration_ms
from stops
