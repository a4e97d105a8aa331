{#- Best overall response over an episode's assessments (spec §4), as two aggregate
    columns ``<prefix>`` and ``<prefix>_date``: the first that applies of CR, PR, MR (only
    where the criterion has minor response), SD (any CR/PR/MR/SD at least
    `stable_disease_min_days` after C1D1), PD, NE (any assessment), else MISSING. The date
    is the first assessment that earned the category. -#}
{% macro best_overall_response(category, days_since_c1d1, exam_date, has_minor_response, prefix) -%}
    {%- set stable = "(" ~ category ~ " in ('CR', 'PR', 'MR', 'SD') and " ~ days_since_c1d1
        ~ " >= " ~ var('stable_disease_min_days') ~ ")" -%}
    case
        when bool_or({{ category }} = 'CR') then 'CR'
        when bool_or({{ category }} = 'PR') then 'PR'
        when bool_or({{ category }} = 'MR') and {{ has_minor_response }} then 'MR'
        when bool_or({{ stable }}) then 'SD'
        when bool_or({{ category }} = 'PD') then 'PD'
        when count({{ category }}) > 0 then 'NE'
        else 'MISSING'
    end as {{ prefix }},
    case
        when bool_or({{ category }} = 'CR') then min({{ exam_date }}) filter (where {{ category }} = 'CR')
        when bool_or({{ category }} = 'PR') then min({{ exam_date }}) filter (where {{ category }} = 'PR')
        when bool_or({{ category }} = 'MR') and {{ has_minor_response }}
            then min({{ exam_date }}) filter (where {{ category }} = 'MR')
        when bool_or({{ stable }}) then min({{ exam_date }}) filter (where {{ stable }})
        when bool_or({{ category }} = 'PD') then min({{ exam_date }}) filter (where {{ category }} = 'PD')
        else min({{ exam_date }})
    end as {{ prefix }}_date
{%- endmacro %}
