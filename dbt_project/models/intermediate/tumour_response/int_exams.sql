-- Imaging exams (spec §3): one per patient and date on which the centre recorded an
-- imaging exam or any lesion.
select site, patient_pseudonym, exam_date from {{ ref('stg_raw__imaging_exams') }}
union
select site, patient_pseudonym, exam_date from {{ ref('stg_raw__lesion_measurements') }}
