-- Each driver's completed laps (is_completed) equal the laps of the classification, in the
-- sessions that have laps.
with results as (
    select * from {{ scoped(source('f1', 'f1_results')) }}
),

sessions_with_laps as (
    select distinct season, round, session from {{ scoped(source('f1', 'laps')) }}
),

completed as (
    select season, round, session, driver_number, count(*) as completed
    from {{ scoped(source('f1', 'laps')) }}
    where is_completed
    group by season, round, session, driver_number
)

select r.season, r.round, r.session, r.driver_number,
    r.laps as classified_laps, coalesce(l.completed, 0) as completed_laps
from results as r
join sessions_with_laps as s
    on s.season = r.season and s.round = r.round and s.session = r.session
left join completed as l
    on l.season = r.season and l.round = r.round and l.session = r.session
    and l.driver_number = r.driver_number
where r.laps is not null and r.laps <> coalesce(l.completed, 0)
