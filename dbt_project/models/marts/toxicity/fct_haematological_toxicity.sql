-- Haematological and renal toxicity per patient, episode and CTCAE term (spec §6, §8):
-- baseline grade (the last value in [C1D1 - 42 d, C1D1]; several that day: the worst),
-- worst lab grade after C1D1 up to L + 90 d in the episode window, worst reported grade
-- of the same term in that window, the worst of both, and whether it is worse than
-- baseline (treatment-emergent; a missing baseline counts as grade 0).
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date, last_cycle_date,
           next_episode_c1d1_date
    from {{ ref('int_treatment_episodes_numbered') }}
),

terms as (
    select distinct term from {{ ref('ctcae_lab_grades') }}
),

grades as (
    select * from {{ ref('int_lab_grades') }}
),

baseline_values as (
    select
        *,
        max(sample_date) over (
            partition by site, patient_pseudonym, episode_no, term) as last_baseline_date
    from grades
    where period = 'baseline'
),

baseline_grades as (
    select site, patient_pseudonym, episode_no, term, max(grade) as baseline_grade
    from baseline_values
    where sample_date = last_baseline_date
    group by all
),

worst_lab as (
    select site, patient_pseudonym, episode_no, term, max(grade) as worst_lab_grade
    from grades
    where period = 'treatment'
    group by all
),

reported as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no, events.term,
           max(events.grade) as worst_reported_grade
    from episodes
    inner join {{ ref('stg_raw__adverse_events') }} as events
        on events.site = episodes.site
        and events.patient_pseudonym = episodes.patient_pseudonym
        and events.onset_date > episodes.c1d1_date
        and events.onset_date
            <= episodes.last_cycle_date + {{ var('toxicity_days_after_last_cycle') }}
        and {{ before_next_episode('events.onset_date') }}
    where events.term in (select term from terms)
    group by all
)

select
    episodes.site::varchar as site,
    episodes.patient_pseudonym::varchar as patient_pseudonym,
    episodes.episode_no::integer as episode_no,
    episodes.phase::varchar as phase,
    terms.term::varchar as term,
    baseline_grades.baseline_grade::integer as baseline_grade,
    worst_lab.worst_lab_grade::integer as worst_lab_grade,
    reported.worst_reported_grade::integer as worst_reported_grade,
    greatest(worst_lab.worst_lab_grade, reported.worst_reported_grade)::integer as worst_grade,
    (greatest(worst_lab.worst_lab_grade, reported.worst_reported_grade)
        > coalesce(baseline_grades.baseline_grade, 0))::boolean as treatment_emergent
from episodes
cross join terms
left join baseline_grades using (site, patient_pseudonym, episode_no, term)
left join worst_lab using (site, patient_pseudonym, episode_no, term)
left join reported using (site, patient_pseudonym, episode_no, term)
