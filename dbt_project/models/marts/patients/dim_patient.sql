-- One row per centre patient: the patient facts of spec §7. Age at first cycle is the
-- calendar year of the first C1D1 minus the birth year (spec §8). A treated patient whose
-- patient record is missing tonight (quarantined at load) keeps a row with unknown facts,
-- so that one bad record does not orphan the patient's episodes.
with patient_records as (
    select * from {{ ref('stg_raw__patients') }}
),

first_cycles as (
    select site, patient_pseudonym, min(c1d1_date) as first_cycle_date
    from {{ ref('int_treatment_episodes_numbered') }}
    group by site, patient_pseudonym
),

patients as (
    select patient_records.*
    from patient_records
    union all by name
    select first_cycles.site, first_cycles.patient_pseudonym
    from first_cycles
    anti join patient_records
        on patient_records.site = first_cycles.site
        and patient_records.patient_pseudonym = first_cycles.patient_pseudonym
)

select
    patients.site::varchar as site,
    patients.patient_pseudonym::varchar as patient_pseudonym,
    patients.sex::varchar as sex,
    patients.birth_year::integer as birth_year,
    first_cycles.first_cycle_date::date as first_cycle_date,
    (year(first_cycles.first_cycle_date) - patients.birth_year)::integer as age_at_first_cycle,
    patients.diagnosis_date::date as diagnosis_date,
    patients.primary_origin::varchar as primary_origin,
    patients.who_grade::varchar as who_grade,
    patients.ki67_percent::double as ki67_percent,
    patients.ki67_qualifier::varchar as ki67_qualifier,
    (case
        when patients.ki67_percent is null then null
        when patients.ki67_qualifier in ('<', '<=') then false
        else {{ exceeds('patients.ki67_percent', var('ki67_high_threshold_percent')) }}
    end)::boolean as ki67_above_10,
    patients.krenning_score::integer as krenning_score,
    patients.bone_metastases::boolean as bone_metastases,
    patients.liver_metastases::boolean as liver_metastases
from patients
left join first_cycles
    on first_cycles.site = patients.site
    and first_cycles.patient_pseudonym = patients.patient_pseudonym
