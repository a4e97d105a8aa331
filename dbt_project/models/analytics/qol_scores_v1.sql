-- Contract version 1 of analytics.qol_scores: the columns of marts.fct_qlq_c30_scores as of this version.
select
    site,
    patient_pseudonym,
    assessment_date,
    scale,
    kind,
    items_in_scale,
    items_answered,
    raw_score,
    score
from {{ published(ref('fct_qlq_c30_scores')) }}
