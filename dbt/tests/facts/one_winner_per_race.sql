-- Exactly one driver in position 1 per race and sprint.
select season, round, session,
    sum(case when position = 1 then 1 else 0 end) as winners
from {{ scoped(source('f1', 'f1_results')) }}
where session_type in ({{ "'" ~ var('race_session_types') | join("', '") ~ "'" }})
group by season, round, session
having sum(case when position = 1 then 1 else 0 end) <> 1
