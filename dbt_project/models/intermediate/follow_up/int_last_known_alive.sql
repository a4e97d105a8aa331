-- The last date each patient is known alive (spec §5, §8): the latest of the last contact
-- and any dated record of the patient in any table (cycles, questionnaires, performance
-- status, labs, imaging, lesions, reported responses, adverse events). A death date is
-- not a date alive and is left out.
with dated as (
    select site, patient_pseudonym, last_contact_date as known_alive_date
    from {{ ref('stg_raw__vital_statuses') }}
    union all
    select site, patient_pseudonym, cycle_date from {{ ref('stg_raw__treatment_cycles') }}
    union all
    select site, patient_pseudonym, assessment_date from {{ ref('stg_raw__qlq_c30_assessments') }}
    union all
    select site, patient_pseudonym, assessment_date from {{ ref('stg_raw__performance_statuses') }}
    union all
    select site, patient_pseudonym, sample_date from {{ ref('stg_raw__lab_results') }}
    union all
    select site, patient_pseudonym, exam_date from {{ ref('stg_raw__imaging_exams') }}
    union all
    select site, patient_pseudonym, exam_date from {{ ref('stg_raw__lesion_measurements') }}
    union all
    select site, patient_pseudonym, assessment_date from {{ ref('stg_raw__reported_responses') }}
    union all
    select site, patient_pseudonym, onset_date from {{ ref('stg_raw__adverse_events') }}
)

select site, patient_pseudonym, max(known_alive_date) as last_known_alive_date
from dated
where known_alive_date is not null
group by site, patient_pseudonym
