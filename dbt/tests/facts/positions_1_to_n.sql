-- The positions of each session are 1..N, each once.
select season, round, session,
    count(position) as positioned, count(distinct position) as distinct_positions,
    min(position) as first_position, max(position) as last_position
from {{ scoped(source('f1', 'f1_results')) }}
group by season, round, session
having count(position) > 0
   and (min(position) <> 1 or max(position) <> count(position)
        or count(distinct position) <> count(position))
