-- Laps with the gaps FastF1 leaves filled:
--  * compound: FastF1 writes the text 'nan' (or nothing) where the tyre is unknown -> null;
--  * stint: null on some laps (mostly lap 1, before the first TimingAppData stint entry):
--    the stint of the next lap with a known stint, else of the previous one, else 1;
--  * is_completed (from the model table): false for the unfinished last lap FastF1 keeps
--    for a car that stopped on track (a made-up end time, no lap time and no position).
with laps as (
    select
        season, round, session, session_type, driver_number, abbreviation, team_name, lap_number,
        lap_time_ms, stint,
        case when upper(compound) in ('NAN', 'NONE', '', 'UNKNOWN', 'TEST_UNKNOWN') then null
             else compound end as compound,
        tyre_life_laps, fresh_tyre, position, pit_in_time_ms, pit_out_time_ms, track_status, deleted,
        lap_start_time_ms,
        session_time_ms as lap_end_time_ms,
        coalesce(is_completed, not (lap_time_ms is null and position is null)) as is_completed
    from {{ source('f1', 'laps') }}
    where {{ season_in_scope() }}
)

select
    laps.*,
    coalesce(
        stint,
        min(stint) over (
            partition by season, round, session, driver_number order by lap_number
            rows between current row and unbounded following),
        max(stint) over (
            partition by season, round, session, driver_number order by lap_number
            rows between unbounded preceding and current row),
        1
    ) as stint_number
from laps
