-- Results with the driver's name as the standings use it (abbreviation, else the number).
select
    season, round, session, driver_number,
    coalesce(abbreviation, cast(driver_number as varchar)) as driver,
    abbreviation, full_name, team_name, event_name,
    position, classified_position, grid_position, status,
    coalesce(points, 0) as points,
    laps as laps_completed
from {{ source('f1', 'f1_results') }}
