-- Contract version 1 of analytics.patients: the columns of marts.dim_patient as of this version.
select
    site,
    patient_pseudonym,
    sex,
    birth_year,
    first_cycle_date,
    age_at_first_cycle,
    diagnosis_date,
    primary_origin,
    who_grade,
    ki67_percent,
    ki67_qualifier,
    ki67_above_10,
    krenning_score,
    bone_metastases,
    liver_metastases
from {{ published(ref('dim_patient')) }}
