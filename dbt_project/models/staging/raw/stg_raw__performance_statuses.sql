-- Current performance status records, each on its own scale (KPS or ECOG).
select
    site,
    patient_pseudonym,
    assessment_date,
    scale,
    score::integer as score
from {{ source('raw', 'performance_status') }}
where valid_to is null and not is_withdrawn
