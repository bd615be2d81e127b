-- Each driver's laps are numbered 1..n without gaps.
select season, round, session, driver_number,
    min(lap_number) as first_lap, max(lap_number) as last_lap, count(*) as laps
from {{ scoped(source('f1', 'laps')) }}
group by season, round, session, driver_number
having min(lap_number) <> 1 or max(lap_number) <> count(*)
