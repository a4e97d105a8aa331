{#- Threshold comparisons with the spec's tolerance (derivations §8), so that a true
    value of exactly the threshold is not lost to floating-point noise. -#}
{% macro exceeds(value, threshold) -%}
    ({{ value }} > {{ threshold }} + {{ var('threshold_tolerance') }})
{%- endmacro %}

{% macro at_least(value, threshold) -%}
    ({{ value }} >= {{ threshold }} - {{ var('threshold_tolerance') }})
{%- endmacro %}

{% macro at_most(value, threshold) -%}
    ({{ value }} <= {{ threshold }} + {{ var('threshold_tolerance') }})
{%- endmacro %}

{% macro below(value, threshold) -%}
    ({{ value }} < {{ threshold }} - {{ var('threshold_tolerance') }})
{%- endmacro %}
