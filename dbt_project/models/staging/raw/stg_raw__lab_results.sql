-- Current laboratory values; only values in their analyte's canonical unit are used by the
-- derivations (CgA in nmol/L is kept in raw but never compared, spec §7).
select
    site,
    patient_pseudonym,
    sample_date,
    analyte,
    value,
    unit,
    is_canonical_unit
from {{ source('raw', 'lab_result') }}
where valid_to is null and not is_withdrawn
