-- Current, not withdrawn follow-up records; renames and casts only.
select
    site,
    patient_pseudonym,
    last_contact_date,
    is_dead,
    death_date,
    raw_id,
    source_file,
    source_row
from {{ source('raw', 'vital_status') }}
where valid_to is null and not is_withdrawn
