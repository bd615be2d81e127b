-- One row per stint of a driver: the laps driven on one set of tyres.
with laps as (
    select
        l.*,
        min(lap_number) over (partition by season, round, session, driver_number, stint_number)
            as stint_first_lap,
        first_value(compound) over (
            partition by season, round, session, driver_number, stint_number
            order by case when compound is null then 1 else 0 end, lap_number
            rows between unbounded preceding and unbounded following) as stint_compound,
        -- fresh or used: as said on the stint's first lap whose stint was known
        first_value(fresh_tyre) over (
            partition by season, round, session, driver_number, stint_number
            order by case when stint is null or fresh_tyre is null then 1 else 0 end, lap_number
            rows between unbounded preceding and unbounded following) as stint_fresh_tyre
    from {{ ref('stg_laps') }} as l
)

select
    season, round, session, driver_number,
    stint_number,
    max(abbreviation) as abbreviation,
    max(team_name) as team_name,
    max(stint_compound) as compound,
    max(case when stint_fresh_tyre then 1 else 0 end) = 1 as is_fresh_tyre,
    min(lap_number) as first_lap,
    max(lap_number) as last_lap,
    count(*) as lap_count,
    -- FastF1's tyre life counts the laps on the set at the end of each lap (1 on a new
    -- set's first lap); age at the start = laps on it before the stint's first lap
    min(tyre_life_laps - (lap_number - stint_first_lap)) - 1 as tyre_age_at_start_laps,
    min(tyre_life_laps - (lap_number - stint_first_lap)) - 1 + count(*)
        as tyre_age_at_end_laps
from laps
group by season, round, session, driver_number, stint_number
