-- Current responses as the centres reported them (criterion and category, canonical codes).
select
    site,
    patient_pseudonym,
    assessment_date,
    criterion,
    category
from {{ source('raw', 'reported_response') }}
where valid_to is null and not is_withdrawn
