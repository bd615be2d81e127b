-- Race pace: the median lap time of each driver's stint over its clean laps: completed,
-- not lap 1 (standing start), not an in- or out-lap, not deleted, and not run (even partly)
-- under a safety car, a virtual safety car or a red flag (from track_status, and the lap's
-- own track status as FastF1 gives it).
with laps as (
    select * from {{ ref('stg_laps') }}
    where is_completed and lap_number > 1
      and pit_in_time_ms is null and pit_out_time_ms is null
      and coalesce(deleted, false) = false
      and not (coalesce(track_status, '') like '%4%' or coalesce(track_status, '') like '%5%'
               or coalesce(track_status, '') like '%6%' or coalesce(track_status, '') like '%7%')
),

neutralised as (
    select * from {{ ref('stg_track_status') }} where status in ('4', '5', '6', '7')
),

clean as (
    select l.*
    from laps as l
    where not exists (
        select 1 from neutralised as n
        where n.season = l.season and n.round = l.round and n.session = l.session
          and n.start_time_ms < l.lap_end_time_ms
          and coalesce(n.end_time_ms, l.lap_end_time_ms) > l.lap_start_time_ms
    )
)

select
    s.season, s.round, s.session, s.driver_number, s.abbreviation, s.stint_number,
    s.compound, s.lap_count,
    count(c.lap_number) as clean_lap_count,
    cast(round(median(c.lap_time_ms)) as bigint) as median_lap_time_ms,
    min(c.lap_time_ms) as best_clean_lap_time_ms
from {{ ref('stints') }} as s
left join clean as c
    on c.season = s.season and c.round = s.round and c.session = s.session
    and c.driver_number = s.driver_number and c.stint_number = s.stint_number
group by s.season, s.round, s.session, s.driver_number, s.abbreviation, s.stint_number,
         s.compound, s.lap_count
