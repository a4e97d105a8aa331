-- Time to event per patient, episode, endpoint and criterion (spec §5, §8). Origin = the
-- episode's C1D1; duration = end - origin + 1 days, months = days / 30.4375.
--   TTP: event at the first PD under the criterion in the episode window; otherwise
--        censored at the last adequate assessment (any response other than NE), also when
--        the patient died without PD.
--   PFS: event at the first PD or at a death inside the episode window, whichever is
--        first (same day: progression); otherwise censored at the last adequate assessment.
--   OS:  event at death (any time, any cause; without a death date at the last date known
--        alive); otherwise censored at the last date known alive. The same for every
--        criterion.
-- Without an adequate assessment (and no event) TTP and PFS are censored at the origin.
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date, next_episode_c1d1_date
    from {{ ref('int_treatment_episodes_numbered') }}
),

assessed as (
    select site, patient_pseudonym, episode_no, criterion,
           min(exam_date) filter (where category = 'PD') as progression_date,
           max(exam_date) filter (where category <> 'NE') as last_adequate_date
    from {{ ref('fct_tumour_response') }}
    where category is not null
    group by all
),

follow_up as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no,
           coalesce(vital.is_dead, false) as is_dead,
           vital.death_date,
           case when vital.death_date >= episodes.c1d1_date
                and {{ before_next_episode('vital.death_date') }}
               then vital.death_date
           end as death_in_window_date,
           alive.last_known_alive_date
    from episodes
    left join {{ ref('stg_raw__vital_statuses') }} as vital
        on vital.site = episodes.site and vital.patient_pseudonym = episodes.patient_pseudonym
    left join {{ ref('int_last_known_alive') }} as alive
        on alive.site = episodes.site and alive.patient_pseudonym = episodes.patient_pseudonym
),

ends as (
    select
        episodes.site, episodes.patient_pseudonym, episodes.episode_no, episodes.phase,
        endpoints.endpoint, criteria.criterion, episodes.c1d1_date,
        case
            when endpoints.endpoint = 'OS' then
                case when follow_up.is_dead then 'death' else 'last_contact' end
            when assessed.progression_date is not null
                and (endpoints.endpoint = 'TTP' or follow_up.death_in_window_date is null
                     or assessed.progression_date <= follow_up.death_in_window_date)
                then 'progression'
            when endpoints.endpoint = 'PFS' and follow_up.death_in_window_date is not null
                then 'death'
            when assessed.last_adequate_date is not null then 'last_adequate_assessment'
            else 'no_adequate_assessment'
        end as reason,
        assessed.progression_date,
        assessed.last_adequate_date,
        follow_up.death_date,
        follow_up.death_in_window_date,
        follow_up.last_known_alive_date
    from episodes
    cross join {{ ref('endpoints') }} as endpoints
    cross join {{ ref('response_criteria') }} as criteria
    left join assessed
        on assessed.site = episodes.site
        and assessed.patient_pseudonym = episodes.patient_pseudonym
        and assessed.episode_no = episodes.episode_no
        and assessed.criterion = criteria.criterion
    left join follow_up
        on follow_up.site = episodes.site
        and follow_up.patient_pseudonym = episodes.patient_pseudonym
        and follow_up.episode_no = episodes.episode_no
),

dated as (
    select
        ends.*,
        case ends.reason
            when 'progression' then ends.progression_date
            when 'death' then
                case when ends.endpoint = 'OS'
                    then coalesce(ends.death_date, ends.last_known_alive_date)
                    else ends.death_in_window_date
                end
            when 'last_adequate_assessment' then ends.last_adequate_date
            when 'last_contact' then greatest(ends.last_known_alive_date, ends.c1d1_date)
            else ends.c1d1_date
        end as end_date
    from ends
)

select
    dated.site::varchar as site,
    dated.patient_pseudonym::varchar as patient_pseudonym,
    dated.episode_no::integer as episode_no,
    dated.phase::varchar as phase,
    dated.endpoint::varchar as endpoint,
    dated.criterion::varchar as criterion,
    dated.c1d1_date::date as origin_date,
    dated.end_date::date as end_date,
    reasons.is_event::boolean as is_event,
    (dated.end_date - dated.c1d1_date + 1)::integer as days,
    ((dated.end_date - dated.c1d1_date + 1) / {{ var('days_per_month') }})::double as months,
    dated.reason::varchar as reason
from dated
inner join {{ ref('censoring_reasons') }} as reasons on reasons.reason = dated.reason
