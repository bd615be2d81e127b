-- classified_position is a whole number as text, or one of the status letters
-- (var classified_status_letters, as f1pipe.schemas.CLASSIFIED_STATUS_LETTERS).
select season, round, session, driver_number, classified_position
from {{ scoped(source('f1', 'f1_results')) }}
where classified_position is null
   or not (
       classified_position in ({{ "'" ~ var('classified_status_letters') | join("', '") ~ "'" }})
       or (try_cast(classified_position as integer) > 0
           and cast(try_cast(classified_position as integer) as varchar) = classified_position))
