-- Every driver in laps has a result in the same session.
select distinct l.season, l.round, l.session, l.driver_number
from {{ scoped(source('f1', 'laps')) }} as l
left join {{ source('f1', 'f1_results') }} as r
    on r.season = l.season and r.round = l.round and r.session = l.session
    and r.driver_number = l.driver_number
where r.driver_number is null
