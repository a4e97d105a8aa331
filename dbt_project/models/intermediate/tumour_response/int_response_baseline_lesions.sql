-- The lesions each response criterion sums for an episode (spec §3, §8), one row per
-- episode, criterion and lesion. The episode's baseline exam is the last exam in
-- [C1D1 - 120 d, C1D1]; the look-back is not cut at the previous episode, so a salvage
-- course usually starts from the exam that showed progression. The set is chosen by the
-- criterion's `lesion_set` (seed response_criteria): the target lesions measured at the
-- baseline exam, or every bone lesion measured there (mMDA), target or not. An episode
-- without a baseline exam, or without measured lesions of the set, has no rows.
with episodes as (
    select site, patient_pseudonym, episode_no, c1d1_date
    from {{ ref('int_treatment_episodes_numbered') }}
),

exams as (
    select * from {{ ref('int_exams') }}
),

baseline_exams as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no,
           max(exams.exam_date) as baseline_exam_date
    from episodes
    inner join exams
        on exams.site = episodes.site
        and exams.patient_pseudonym = episodes.patient_pseudonym
        and exams.exam_date
            between episodes.c1d1_date - {{ var('tumour_baseline_lookback_days') }}
            and episodes.c1d1_date
    group by all
)

select
    baseline_exams.site,
    baseline_exams.patient_pseudonym,
    baseline_exams.episode_no,
    criteria.criterion,
    baseline_exams.baseline_exam_date,
    lesions.lesion_id,
    lesions.organ,
    coalesce(organs.is_lymph_node, false) as is_lymph_node,
    lesions.diameter_mm as baseline_diameter_mm
from baseline_exams
inner join {{ ref('stg_raw__lesion_measurements') }} as lesions
    on lesions.site = baseline_exams.site
    and lesions.patient_pseudonym = baseline_exams.patient_pseudonym
    and lesions.exam_date = baseline_exams.baseline_exam_date
left join {{ ref('organs') }} as organs on organs.organ = lesions.organ
cross join {{ ref('response_criteria') }} as criteria
where lesions.diameter_mm is not null
    and case criteria.lesion_set
        when 'target' then lesions.is_target
        when 'bone' then coalesce(organs.is_bone, false)
    end
