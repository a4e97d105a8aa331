-- Contract version 1 of analytics.performance_changes: the columns of marts.fct_performance_deltas as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    "window",
    scale,
    baseline_date,
    baseline_score,
    follow_up_date,
    follow_up_score,
    delta,
    classification,
    impaired_at_baseline
from {{ published(ref('fct_performance_deltas')) }}
