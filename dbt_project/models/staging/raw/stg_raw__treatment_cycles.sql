-- Current, not withdrawn treatment cycles; renames and casts only.
select
    site,
    patient_pseudonym,
    cycle_no::integer as cycle_no,
    cycle_date,
    administered_activity_gbq,
    activity_source_value,
    activity_source_unit,
    agent,
    phase,
    phase_source,
    raw_id,
    source_file,
    source_row
from {{ source('raw', 'treatment_cycle') }}
where valid_to is null and not is_withdrawn
