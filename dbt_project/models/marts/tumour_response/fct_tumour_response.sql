-- Tumour response per patient, exam and criterion (spec §3, §8). Derived rows: follow-up
-- exams of an episode with a baseline lesion set; the nadir is the smallest of the
-- baseline sum and the sums of earlier complete exams. Thresholds per criterion come from
-- the seed response_criteria. PD (by size or a new lesion) is checked first, even on a
-- partial sum; otherwise a partial sum is NE. Where a criterion uses the centre's reported
-- categories for episodes without lesions of its set (mMDA), those rows are marked
-- `reported`. Every site-reported response in an episode window is shown next to the
-- derived category with an agreement flag; one that no derived row matches keeps a null
-- category.
-- Derived again only for the patients whose records changed (macros/changed_patients.sql).
{{ rebuilt_per_patient() }}
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date, next_episode_c1d1_date
    from {{ for_changed_patients(ref('int_treatment_episodes_numbered')) }}
),

criteria as (
    select * from {{ ref('response_criteria') }}
),

nadirs as (
    select
        sums.*,
        least(sums.baseline_sld_mm, coalesce(min(
            case when sums.lesions_not_measured = 0 then sums.sld_mm end) over (
            partition by sums.site, sums.patient_pseudonym, sums.episode_no, sums.criterion
            order by sums.exam_date rows between unbounded preceding and 1 preceding),
            sums.baseline_sld_mm)) as nadir_sld_mm
    from {{ for_changed_patients(ref('int_response_exam_sums')) }} as sums
),

changes as (
    select
        nadirs.*,
        criteria.progression_percent_from_nadir,
        criteria.progression_min_increase_mm,
        criteria.partial_response_percent,
        criteria.minor_response_percent,
        nadirs.sld_mm - nadirs.nadir_sld_mm as change_from_nadir_mm,
        case when nadirs.baseline_sld_mm > 0
            then 100 * (nadirs.sld_mm - nadirs.baseline_sld_mm) / nadirs.baseline_sld_mm
        end as percent_change_from_baseline,
        case when nadirs.nadir_sld_mm > 0
            then 100 * (nadirs.sld_mm - nadirs.nadir_sld_mm) / nadirs.nadir_sld_mm
        end as percent_change_from_nadir
    from nadirs
    inner join criteria on criteria.criterion = nadirs.criterion
),

derived as (
    select
        *,
        case
            when nadir_sld_mm > 0
                then {{ at_least('percent_change_from_nadir', 'progression_percent_from_nadir') }}
                    and (progression_min_increase_mm is null
                         or {{ at_least('change_from_nadir_mm', 'progression_min_increase_mm') }})
            else {{ exceeds('sld_mm', 0) }}
                and (progression_min_increase_mm is null
                     or {{ at_least('sld_mm', 'progression_min_increase_mm') }})
        end as progression_by_size
    from changes
),

categorised as (
    select
        *,
        case
            when progression_by_size or has_new_lesion then 'PD'
            when lesions_not_measured > 0 then 'NE'
            when all_lesions_resolved then 'CR'
            when {{ at_most('percent_change_from_baseline', 'partial_response_percent') }}
                then 'PR'
            when minor_response_percent is not null
                and {{ at_most('percent_change_from_baseline', 'minor_response_percent') }}
                then 'MR'
            else 'SD'
        end as category
    from derived
),

reported as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no,
           reported.criterion, reported.assessment_date as exam_date,
           reported.category as reported_category
    from episodes
    inner join {{ for_changed_patients(ref('stg_raw__reported_responses')) }} as reported
        on reported.site = episodes.site
        and reported.patient_pseudonym = episodes.patient_pseudonym
        and reported.assessment_date > episodes.c1d1_date
        and {{ before_next_episode('reported.assessment_date') }}
),

uses_reported as (
    -- Episode and criterion pairs that take the centre's categories: no lesion of the
    -- criterion's set at the baseline exam, and the criterion allows it.
    select distinct reported.site, reported.patient_pseudonym, reported.episode_no,
                    reported.criterion
    from reported
    inner join criteria
        on criteria.criterion = reported.criterion and criteria.uses_reported_without_lesions
    anti join {{ for_changed_patients(ref('int_response_baseline_lesions')) }} as set_lesions
        on set_lesions.site = reported.site
        and set_lesions.patient_pseudonym = reported.patient_pseudonym
        and set_lesions.episode_no = reported.episode_no
        and set_lesions.criterion = reported.criterion
),

responses as (
    select
        coalesce(categorised.site, reported.site) as site,
        coalesce(categorised.patient_pseudonym, reported.patient_pseudonym) as patient_pseudonym,
        coalesce(categorised.episode_no, reported.episode_no) as episode_no,
        coalesce(categorised.criterion, reported.criterion) as criterion,
        coalesce(categorised.exam_date, reported.exam_date) as exam_date,
        categorised.baseline_exam_date,
        categorised.baseline_sld_mm,
        categorised.sld_mm,
        categorised.lesions_in_set,
        categorised.lesions_not_measured,
        categorised.nadir_sld_mm,
        categorised.percent_change_from_baseline,
        categorised.percent_change_from_nadir,
        categorised.change_from_nadir_mm,
        categorised.has_new_lesion,
        case
            when categorised.category is not null then categorised.category
            when uses_reported.criterion is not null then reported.reported_category
        end as category,
        case
            when categorised.category is not null then 'derived'
            when uses_reported.criterion is not null then 'reported'
        end as category_origin,
        reported.reported_category,
        case when categorised.category is not null and reported.reported_category is not null
            then categorised.category = reported.reported_category
        end as agrees_with_reported
    from categorised
    full join reported
        on reported.site = categorised.site
        and reported.patient_pseudonym = categorised.patient_pseudonym
        and reported.episode_no = categorised.episode_no
        and reported.criterion = categorised.criterion
        and reported.exam_date = categorised.exam_date
    left join uses_reported
        on uses_reported.site = reported.site
        and uses_reported.patient_pseudonym = reported.patient_pseudonym
        and uses_reported.episode_no = reported.episode_no
        and uses_reported.criterion = reported.criterion
)

select
    responses.site::varchar as site,
    responses.patient_pseudonym::varchar as patient_pseudonym,
    responses.episode_no::integer as episode_no,
    episodes.phase::varchar as phase,
    responses.criterion::varchar as criterion,
    responses.exam_date::date as exam_date,
    (responses.exam_date - episodes.c1d1_date)::integer as days_since_c1d1,
    responses.baseline_exam_date::date as baseline_exam_date,
    responses.baseline_sld_mm::double as baseline_sld_mm,
    responses.sld_mm::double as sld_mm,
    responses.lesions_in_set::integer as lesions_in_set,
    responses.lesions_not_measured::integer as lesions_not_measured,
    responses.nadir_sld_mm::double as nadir_sld_mm,
    responses.percent_change_from_baseline::double as percent_change_from_baseline,
    responses.percent_change_from_nadir::double as percent_change_from_nadir,
    responses.change_from_nadir_mm::double as change_from_nadir_mm,
    responses.has_new_lesion::boolean as has_new_lesion,
    responses.category::varchar as category,
    responses.category_origin::varchar as category_origin,
    responses.reported_category::varchar as reported_category,
    responses.agrees_with_reported::boolean as agrees_with_reported
from responses
inner join episodes
    on episodes.site = responses.site
    and episodes.patient_pseudonym = responses.patient_pseudonym
    and episodes.episode_no = responses.episode_no
