-- Best overall response per patient, episode and criterion (spec §4, §8), one row for every
-- episode and criterion (MISSING where nothing was assessed). Assessments: the response
-- rows of the episode window up to and including the first PD; on one date the worst
-- counts (PD > NE > SD > MR > PR > CR). Confirmation: a CR needs another CR, a PR a CR or PR,
-- at least 28 days later with only CR (for a CR) or CR/PR (for a PR) in between, plus at
-- most one NE. An unconfirmed CR/PR counts as SD when at least 42 days after C1D1, else NE.
-- Derived again only for the patients whose records changed (macros/changed_patients.sql).
{{ rebuilt_per_patient() }}
{%- set confirm = var('response_confirmation_days') %}
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date
    from {{ for_changed_patients(ref('int_treatment_episodes_numbered')) }}
),

criteria as (
    select criterion, minor_response from {{ ref('response_criteria') }}
),

worst_per_date as (
    select responses.site, responses.patient_pseudonym, responses.episode_no,
           responses.criterion, responses.exam_date, responses.days_since_c1d1,
           responses.category, responses.percent_change_from_baseline
    from {{ for_changed_patients(ref('fct_tumour_response')) }} as responses
    inner join {{ ref('response_categories') }} as categories
        on categories.category = responses.category
    qualify row_number() over (
        partition by responses.site, responses.patient_pseudonym, responses.episode_no,
                     responses.criterion, responses.exam_date
        order by categories.severity_rank desc) = 1
),

assessments as (
    -- Up to and including the first PD.
    select *
    from worst_per_date
    qualify exam_date <= coalesce(min(case when category = 'PD' then exam_date end) over (
        partition by site, patient_pseudonym, episode_no, criterion), exam_date)
),

confirmation_pairs as (
    -- A CR/PR and a later CR/PR at least `response_confirmation_days` after it, with what
    -- lies between them.
    select
        initial.site, initial.patient_pseudonym, initial.episode_no, initial.criterion,
        initial.exam_date,
        initial.category = 'CR' and confirming.category = 'CR'
            and count(between_.category) filter (where between_.category not in ('CR', 'NE')) = 0
            and count(between_.category) filter (where between_.category = 'NE')
                <= {{ var('max_not_evaluable_between_confirmation') }}
            as confirms_complete,
        count(between_.category) filter (where between_.category not in ('CR', 'PR', 'NE')) = 0
            and count(between_.category) filter (where between_.category = 'NE')
                <= {{ var('max_not_evaluable_between_confirmation') }}
            as confirms_partial
    from assessments as initial
    inner join assessments as confirming
        on confirming.site = initial.site
        and confirming.patient_pseudonym = initial.patient_pseudonym
        and confirming.episode_no = initial.episode_no
        and confirming.criterion = initial.criterion
        and confirming.exam_date >= initial.exam_date + {{ confirm }}
        and confirming.category in ('CR', 'PR')
    left join assessments as between_
        on between_.site = initial.site
        and between_.patient_pseudonym = initial.patient_pseudonym
        and between_.episode_no = initial.episode_no
        and between_.criterion = initial.criterion
        and between_.exam_date > initial.exam_date
        and between_.exam_date < confirming.exam_date
    where initial.category in ('CR', 'PR')
    group by initial.site, initial.patient_pseudonym, initial.episode_no, initial.criterion,
             initial.exam_date, initial.category, confirming.exam_date, confirming.category
),

confirmed as (
    select
        assessments.site, assessments.patient_pseudonym, assessments.episode_no,
        assessments.criterion, assessments.exam_date, assessments.days_since_c1d1,
        assessments.category, assessments.percent_change_from_baseline,
        case
            when assessments.category not in ('CR', 'PR') then assessments.category
            when bool_or(pairs.confirms_complete) then 'CR'
            when bool_or(pairs.confirms_partial) then 'PR'
            when assessments.days_since_c1d1 >= {{ var('stable_disease_min_days') }} then 'SD'
            else 'NE'
        end as confirmed_category
    from assessments
    left join confirmation_pairs as pairs
        on pairs.site = assessments.site
        and pairs.patient_pseudonym = assessments.patient_pseudonym
        and pairs.episode_no = assessments.episode_no
        and pairs.criterion = assessments.criterion
        and pairs.exam_date = assessments.exam_date
    group by assessments.site, assessments.patient_pseudonym, assessments.episode_no,
             assessments.criterion, assessments.exam_date, assessments.days_since_c1d1,
             assessments.category, assessments.percent_change_from_baseline
),

best as (
    select
        episodes.site, episodes.patient_pseudonym, episodes.episode_no, episodes.phase,
        criteria.criterion, episodes.c1d1_date,
        count(confirmed.category) as assessments,
        min(confirmed.percent_change_from_baseline) as best_percent_change_from_baseline,
        {{ best_overall_response('confirmed.category', 'confirmed.days_since_c1d1',
                                 'confirmed.exam_date', 'criteria.minor_response',
                                 'best_response') }},
        {{ best_overall_response('confirmed.confirmed_category', 'confirmed.days_since_c1d1',
                                 'confirmed.exam_date', 'criteria.minor_response',
                                 'confirmed_best_response') }}
    from episodes
    cross join criteria
    left join confirmed
        on confirmed.site = episodes.site
        and confirmed.patient_pseudonym = episodes.patient_pseudonym
        and confirmed.episode_no = episodes.episode_no
        and confirmed.criterion = criteria.criterion
    group by episodes.site, episodes.patient_pseudonym, episodes.episode_no, episodes.phase,
             criteria.criterion, criteria.minor_response, episodes.c1d1_date
)

select
    best.site::varchar as site,
    best.patient_pseudonym::varchar as patient_pseudonym,
    best.episode_no::integer as episode_no,
    best.phase::varchar as phase,
    best.criterion::varchar as criterion,
    best.c1d1_date::date as c1d1_date,
    best.assessments::integer as assessments,
    best.best_response::varchar as best_response,
    best.best_response_date::date as best_response_date,
    best.confirmed_best_response::varchar as confirmed_best_response,
    best.confirmed_best_response_date::date as confirmed_best_response_date,
    coalesce(unconfirmed.is_objective_response, false)::boolean as is_objective_response,
    coalesce(unconfirmed.is_disease_control, false)::boolean as is_disease_control,
    coalesce(confirmed.is_objective_response, false)::boolean as is_confirmed_objective_response,
    coalesce(confirmed.is_disease_control, false)::boolean as is_confirmed_disease_control,
    best.best_percent_change_from_baseline::double as best_percent_change_from_baseline
from best
left join {{ ref('response_categories') }} as unconfirmed
    on unconfirmed.category = best.best_response
left join {{ ref('response_categories') }} as confirmed
    on confirmed.category = best.confirmed_best_response
