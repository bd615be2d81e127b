-- Drivers' championship after each loaded round (races + sprints, official countback).
{{ standings('driver', with_team=true) }}
