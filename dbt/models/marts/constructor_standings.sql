-- Constructors' championship after each loaded round (races + sprints, official countback).
{{ standings("coalesce(team_name, '?')") }}
