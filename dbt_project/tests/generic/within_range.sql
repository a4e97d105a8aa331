{#- A numeric column stays within [minimum, maximum] (nulls allowed), e.g. scores 0-100.
    The spec's 1e-9 tolerance applies, so an exact bound is not lost to float noise. -#}
{% test within_range(model, column_name, minimum, maximum) %}
select {{ column_name }}
from {{ model }}
where {{ column_name }} < {{ minimum }} - {{ var('threshold_tolerance') }}
   or {{ column_name }} > {{ maximum }} + {{ var('threshold_tolerance') }}
{% endtest %}
