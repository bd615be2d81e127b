-- Each driver's fastest lap of a session (deleted laps do not count), ranked.
with best as (
    select
        season, round, session, driver_number, abbreviation, team_name, lap_number,
        lap_time_ms, compound, tyre_life_laps
    from {{ ref('stg_laps') }}
    where lap_time_ms is not null and coalesce(deleted, false) = false
    qualify row_number() over (
        partition by season, round, session, driver_number
        order by lap_time_ms, lap_number) = 1
)

select
    best.*,
    rank() over (partition by season, round, session order by lap_time_ms) as session_rank,
    lap_time_ms - min(lap_time_ms) over (partition by season, round, session)
        as gap_to_fastest_ms
from best
