-- Each driver's stints are numbered 1..k and cover his laps 1..N without gaps or overlap.
with stints as (
    select
        s.*,
        lag(last_lap) over (
            partition by season, round, session, driver_number order by stint_number)
            as previous_last_lap,
        row_number() over (
            partition by season, round, session, driver_number order by stint_number) as nth
    from {{ scoped(ref('stints')) }} as s
),

laps as (
    select season, round, session, driver_number, max(lap_number) as last_lap
    from {{ scoped(source('f1', 'laps')) }}
    group by season, round, session, driver_number
),

last_stints as (
    select season, round, session, driver_number, max(last_lap) as last_lap
    from {{ scoped(ref('stints')) }}
    group by season, round, session, driver_number
)

select season, round, session, driver_number, 'stint ' || cast(stint_number as varchar) as problem
from stints
where stint_number <> nth
   or first_lap > last_lap
   or (nth = 1 and first_lap <> 1)
   or (nth > 1 and first_lap <> previous_last_lap + 1)
union all
select l.season, l.round, l.session, l.driver_number, 'laps not covered' as problem
from laps as l
left join last_stints as s
    on s.season = l.season and s.round = l.round and s.session = l.session
    and s.driver_number = l.driver_number
where s.last_lap is null or s.last_lap <> l.last_lap
