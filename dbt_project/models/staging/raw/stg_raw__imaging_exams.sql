-- Current imaging examinations (one per centre patient and date).
select
    site,
    patient_pseudonym,
    exam_date,
    modality
from {{ source('raw', 'imaging_exam') }}
where valid_to is null and not is_withdrawn
