-- Current, not withdrawn patient records; renames and casts only.
select
    site,
    patient_pseudonym,
    sex,
    sex_source,
    birth_year::integer as birth_year,
    diagnosis_date,
    primary_origin,
    primary_origin_source,
    who_grade,
    ki67_percent,
    ki67_qualifier,
    ki67_source,
    krenning_score::integer as krenning_score,
    bone_metastases,
    liver_metastases,
    lymph_node_metastases,
    lung_metastases,
    tumour_burden,
    raw_id,
    source_file,
    source_row
from {{ source('raw', 'patient') }}
where valid_to is null and not is_withdrawn
