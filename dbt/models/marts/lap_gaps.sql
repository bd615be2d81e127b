-- Gap to the leader and interval to the car ahead at the end of every lap: the difference
-- between the times at which the two cars completed that lap (a lapped car's gap is its
-- time behind the leader at the same lap number).
with positions as (
    select * from {{ ref('lap_positions') }} where lap_number > 0
)

select
    p.season, p.round, p.session, p.driver_number, p.abbreviation, p.lap_number, p.position,
    p.lap_end_time_ms,
    p.lap_end_time_ms - min(p.lap_end_time_ms) over (
        partition by p.season, p.round, p.session, p.lap_number) as gap_to_leader_ms,
    p.lap_end_time_ms - lag(p.lap_end_time_ms) over (
        partition by p.season, p.round, p.session, p.lap_number order by p.position)
        as interval_to_ahead_ms
from positions as p
