-- Replayed / live sessions: every gap to the leader and interval to the car ahead the
-- TimingData stream sent (live_updates), in order, not only the newest (live_timing has
-- that). Gaps as the feed shows them ("+1.234", "1L", "LAP 12") and in ms when numeric.
with updates as (
    select
        season, round, session, driver_number, stream_index, session_time_ms, time_utc,
        {{ driver_entry('data', 'subject') }} as entry
    from {{ source('f1', 'live_updates') }}
    where feed_topic = 'TimingData' and driver_number is not null and {{ season_in_scope() }}
),

values_sent as (
    select
        season, round, session, driver_number, stream_index, session_time_ms, time_utc,
        nullif({{ json_text('entry', 'GapToLeader') }}, '') as gap_to_leader,
        nullif({{ json_text('entry', 'IntervalToPositionAhead.Value') }}, '')
            as interval_to_ahead
    from updates
)

select
    season, round, session, driver_number, stream_index, session_time_ms, time_utc,
    gap_to_leader,
    cast(round(try_cast(replace(gap_to_leader, '+', '') as double) * 1000) as bigint)
        as gap_to_leader_ms,
    interval_to_ahead,
    cast(round(try_cast(replace(interval_to_ahead, '+', '') as double) * 1000) as bigint)
        as interval_to_ahead_ms
from values_sent
where gap_to_leader is not null or interval_to_ahead is not null
