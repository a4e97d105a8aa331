-- Sums of longest diameters per episode, criterion and follow-up exam (spec §3, §8). An
-- exam is all lesion records of a patient on one date; follow-up exams are those after
-- C1D1 and before the next episode's C1D1. Each lesion of the criterion's baseline set
-- (int_response_baseline_lesions) is looked up at the exam: absent, or recorded without a
-- diameter, it is not measured and the sum is partial; 0 mm means disappeared. A lesion is
-- new at an exam when it is flagged new there and its id was not recorded at the episode's
-- baseline exam (for mMDA only a new bone lesion counts).
-- Derived again only for the patients whose records changed (macros/changed_patients.sql).
{{ rebuilt_per_patient() }}
with episodes as (
    select site, patient_pseudonym, episode_no, c1d1_date, next_episode_c1d1_date
    from {{ for_changed_patients(ref('int_treatment_episodes_numbered')) }}
),

lesions as (
    select lesions.*, coalesce(organs.is_bone, false) as is_bone
    from {{ for_changed_patients(ref('stg_raw__lesion_measurements')) }} as lesions
    left join {{ ref('organs') }} as organs on organs.organ = lesions.organ
),

exams as (
    select * from {{ for_changed_patients(ref('int_exams')) }}
),

baseline_set as (
    select set_lesions.*, criteria.lesion_set, criteria.complete_response_lymph_node_below_mm
    from {{ for_changed_patients(ref('int_response_baseline_lesions')) }} as set_lesions
    inner join {{ ref('response_criteria') }} as criteria on criteria.criterion = set_lesions.criterion
),

follow_up_exams as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no, exams.exam_date
    from episodes
    inner join exams
        on exams.site = episodes.site
        and exams.patient_pseudonym = episodes.patient_pseudonym
        and exams.exam_date > episodes.c1d1_date
        and {{ before_next_episode('exams.exam_date') }}
),

set_at_exam as (
    select
        follow_up_exams.*,
        baseline_set.criterion,
        baseline_set.lesion_set,
        baseline_set.baseline_exam_date,
        baseline_set.baseline_diameter_mm,
        lesions.diameter_mm,
        lesions.diameter_mm = 0
            or (baseline_set.is_lymph_node
                and lesions.diameter_mm < baseline_set.complete_response_lymph_node_below_mm)
            as is_resolved
    from follow_up_exams
    inner join baseline_set
        on baseline_set.site = follow_up_exams.site
        and baseline_set.patient_pseudonym = follow_up_exams.patient_pseudonym
        and baseline_set.episode_no = follow_up_exams.episode_no
    left join lesions
        on lesions.site = follow_up_exams.site
        and lesions.patient_pseudonym = follow_up_exams.patient_pseudonym
        and lesions.exam_date = follow_up_exams.exam_date
        and lesions.lesion_id = baseline_set.lesion_id
),

ids_at_baseline as (
    -- Every lesion recorded at the baseline exam, in any organ, measured or not.
    select distinct baseline_set.site, baseline_set.patient_pseudonym,
                    baseline_set.episode_no, lesions.lesion_id
    from baseline_set
    inner join lesions
        on lesions.site = baseline_set.site
        and lesions.patient_pseudonym = baseline_set.patient_pseudonym
        and lesions.exam_date = baseline_set.baseline_exam_date
),

new_lesions as (
    select follow_up_exams.site, follow_up_exams.patient_pseudonym, follow_up_exams.episode_no,
           follow_up_exams.exam_date,
           true as has_new_lesion,
           bool_or(lesions.is_bone) as has_new_bone_lesion
    from follow_up_exams
    inner join lesions
        on lesions.site = follow_up_exams.site
        and lesions.patient_pseudonym = follow_up_exams.patient_pseudonym
        and lesions.exam_date = follow_up_exams.exam_date
        and lesions.is_new
    anti join ids_at_baseline
        on ids_at_baseline.site = follow_up_exams.site
        and ids_at_baseline.patient_pseudonym = follow_up_exams.patient_pseudonym
        and ids_at_baseline.episode_no = follow_up_exams.episode_no
        and ids_at_baseline.lesion_id = lesions.lesion_id
    group by all
)

select
    set_at_exam.site,
    set_at_exam.patient_pseudonym,
    set_at_exam.episode_no,
    set_at_exam.criterion,
    set_at_exam.exam_date,
    set_at_exam.baseline_exam_date,
    sum(set_at_exam.baseline_diameter_mm) as baseline_sld_mm,
    coalesce(sum(set_at_exam.diameter_mm), 0) as sld_mm,
    count(*) as lesions_in_set,
    count(*) filter (where set_at_exam.diameter_mm is null) as lesions_not_measured,
    bool_and(coalesce(set_at_exam.is_resolved, false)) as all_lesions_resolved,
    coalesce(any_value(case set_at_exam.lesion_set
        when 'bone' then new_lesions.has_new_bone_lesion
        else new_lesions.has_new_lesion
    end), false) as has_new_lesion
from set_at_exam
left join new_lesions
    on new_lesions.site = set_at_exam.site
    and new_lesions.patient_pseudonym = set_at_exam.patient_pseudonym
    and new_lesions.episode_no = set_at_exam.episode_no
    and new_lesions.exam_date = set_at_exam.exam_date
group by all
