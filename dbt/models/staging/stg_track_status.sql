-- Track status as intervals: each status holds from its change until the next one.
select
    season, round, session, status, message,
    session_time_ms as start_time_ms,
    lead(session_time_ms) over (
        partition by season, round, session order by session_time_ms) as end_time_ms
from {{ source('f1', 'track_status') }}
where {{ season_in_scope() }}
