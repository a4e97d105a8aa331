{#- The columns of the delta marts (fct_qol_score_deltas, fct_performance_deltas), typed
    for their contracts. -#}
{% macro score_delta_columns() -%}
    site::varchar as site,
    patient_pseudonym::varchar as patient_pseudonym,
    episode_no::integer as episode_no,
    phase::varchar as phase,
    "window"::varchar as "window",
    scale::varchar as scale,
    baseline_date::date as baseline_date,
    baseline_score::double as baseline_score,
    follow_up_date::date as follow_up_date,
    follow_up_score::double as follow_up_score,
    delta::double as delta,
    classification::varchar as classification,
    impaired_at_baseline::boolean as impaired_at_baseline
{%- endmacro %}
