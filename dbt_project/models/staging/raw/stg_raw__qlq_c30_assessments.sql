-- Current, not withdrawn QLQ-C30 questionnaires (one per patient and date).
select
    site,
    patient_pseudonym,
    assessment_date,
    instrument
from {{ source('raw', 'qlq_c30_assessment') }}
where valid_to is null and not is_withdrawn
