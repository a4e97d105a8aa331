-- Current reported adverse events (CTCAE v5.0 term and grade).
select
    site,
    patient_pseudonym,
    onset_date,
    term,
    grade::integer as grade
from {{ source('raw', 'adverse_event') }}
where valid_to is null and not is_withdrawn
