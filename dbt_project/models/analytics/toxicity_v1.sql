-- Contract version 1 of analytics.toxicity: the columns of marts.fct_haematological_toxicity as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    term,
    baseline_grade,
    worst_lab_grade,
    worst_reported_grade,
    worst_grade,
    treatment_emergent
from {{ published(ref('fct_haematological_toxicity')) }}
