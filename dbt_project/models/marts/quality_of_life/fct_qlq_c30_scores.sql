-- EORTC QLQ-C30 v3.0 scale scores per assessment (derivations §1, §8): every scale gets
-- a row per questionnaire; the score is null when fewer than half its items are answered.
-- Derived again only for the patients whose records changed (macros/changed_patients.sql).
{{ rebuilt_per_patient() }}
with assessments as (
    select site, patient_pseudonym, assessment_date
    from {{ for_changed_patients(ref('stg_raw__qlq_c30_assessments')) }}
),

scales as (
    select * from {{ ref('qlq_c30_scales') }}
),

answered as (
    select
        responses.site,
        responses.patient_pseudonym,
        responses.assessment_date,
        scale_items.scale,
        count(*) as items_answered,
        avg(responses.response) as raw_score
    from {{ for_changed_patients(ref('stg_raw__qlq_c30_item_responses')) }} as responses
    inner join {{ ref('qlq_c30_scale_items') }} as scale_items
        on responses.item_no = scale_items.item_no
    group by all
),

scale_scores as (
    select
        assessments.site,
        assessments.patient_pseudonym,
        assessments.assessment_date,
        scales.scale,
        scales.kind,
        scales.in_summary_score,
        scales.sort_order,
        scales.item_count::integer as items_in_scale,
        coalesce(answered.items_answered, 0)::integer as items_answered,
        answered.raw_score,
        case
            when 2 * coalesce(answered.items_answered, 0) < scales.item_count then null
            when scales.kind = 'functional'
                then 100 * (1 - (answered.raw_score - 1) / scales.item_range)
            else 100 * (answered.raw_score - 1) / scales.item_range
        end as score
    from assessments
    cross join scales
    left join answered
        on assessments.site = answered.site
        and assessments.patient_pseudonym = answered.patient_pseudonym
        and assessments.assessment_date = answered.assessment_date
        and scales.scale = answered.scale
),

summary_scores as (
    -- C30SUM: mean of the functional scores and 100 - symptom scores of the 13 summary
    -- scales, only when all 13 are scored. Summed in scale order, so that the result does
    -- not depend on how a parallel aggregate happens to add its parts.
    select
        site,
        patient_pseudonym,
        assessment_date,
        'C30SUM' as scale,
        'summary' as kind,
        count(*) filter (where in_summary_score)::integer as items_in_scale,
        count(score) filter (where in_summary_score)::integer as items_answered,
        null::double as raw_score,
        case
            when count(score) filter (where in_summary_score)
                = count(*) filter (where in_summary_score)
                then list_sum(list(case when kind = 'functional' then score else 100 - score end
                    order by sort_order) filter (where in_summary_score))
                    / count(*) filter (where in_summary_score)
        end as score
    from scale_scores
    group by site, patient_pseudonym, assessment_date
)

select
    site,
    patient_pseudonym,
    assessment_date,
    scale,
    kind,
    items_in_scale,
    items_answered,
    raw_score,
    score
from scale_scores
union all
select
    site,
    patient_pseudonym,
    assessment_date,
    scale,
    kind,
    items_in_scale,
    items_answered,
    raw_score,
    score
from summary_scores
