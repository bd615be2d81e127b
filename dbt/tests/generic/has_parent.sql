{# Every row's `columns` are found in `to` (a relationship on a composite key). #}
{% test has_parent(model, to, columns) %}
with child as (
    select * from {{ model }}
)

select {% for c in columns %}child.{{ c }}{{ ", " if not loop.last }}{% endfor %}
from child
where not exists (
    select 1 from {{ to }} as parent
    where {% for c in columns %}parent.{{ c }} = child.{{ c }}{{ " and " if not loop.last }}{% endfor %}
)
{% endtest %}
