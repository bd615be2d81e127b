-- Results with the driver's name as the standings use it (abbreviation, else the number)
-- and the classified finishing position as a number (null: R, D, E, W, F, N).
select
    season, round, session, session_type, driver_number,
    coalesce(abbreviation, cast(driver_number as varchar)) as driver,
    abbreviation, full_name, team_name, event_name,
    position, classified_position,
    try_cast(classified_position as integer) as finish_position,
    grid_position, status,
    coalesce(points, 0) as points,
    laps as laps_completed
from {{ source('f1', 'f1_results') }}
where {{ season_in_scope() }}
