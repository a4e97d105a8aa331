-- Current lesion records: one lesion at one exam. A record without a diameter (not
-- measured) keeps diameter_mm null.
select
    site,
    patient_pseudonym,
    exam_date,
    lesion_id,
    organ,
    coalesce(is_target, false) as is_target,
    diameter_mm,
    coalesce(is_new, false) as is_new
from {{ source('raw', 'lesion_measurement') }}
where valid_to is null and not is_withdrawn
