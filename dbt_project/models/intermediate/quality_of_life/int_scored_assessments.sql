-- Every dated score that gets baseline / follow-up deltas (spec §2): the QLQ-C30 scale
-- scores that could be computed, and Karnofsky (several values on one date: the lowest).
-- ECOG is never converted to Karnofsky and has no deltas.
select
    site,
    patient_pseudonym,
    assessment_date,
    scale,
    kind = 'symptom' as lower_is_better,
    score
from {{ ref('fct_qlq_c30_scores') }}
where score is not null

union all

select
    site,
    patient_pseudonym,
    assessment_date,
    'KPS' as scale,
    false as lower_is_better,
    min(score)::double as score
from {{ ref('stg_raw__performance_statuses') }}
where scale = 'KPS'
group by site, patient_pseudonym, assessment_date
