-- At every lap end (and on the grid) the positions are 1..N, each once.
select season, round, session, lap_number,
    count(*) as drivers, count(distinct position) as positions,
    min(position) as first_position, max(position) as last_position
from {{ scoped(ref('lap_positions')) }}
group by season, round, session, lap_number
having min(position) <> 1 or max(position) <> count(*) or count(distinct position) <> count(*)
