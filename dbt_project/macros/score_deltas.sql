{#- Baseline, follow-up and delta per episode, window and scale (spec §2, §8).
    Baseline: the last score in [C1D1 - 42 d, C1D1] (look-back not cut at the previous
    episode). Follow-up: in each window counted from the episode's last cycle L, the score
    closest to the target day, on a tie the later one; windows end the day before the next
    episode's C1D1. A row exists when a baseline or a follow-up exists.
    ``episodes``: int_treatment_episodes_numbered, ``scores``: int_scored_assessments, or
    the changed patients' rows of them (fct_qol_score_deltas). -#}
{% macro score_deltas(episodes, scores) %}
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date, last_cycle_date,
           next_episode_c1d1_date
    from {{ episodes }}
),

scores as (
    select * from {{ scores }}
),

windows as (
    select * from {{ ref('follow_up_windows') }}
),

baselines as (
    select
        episodes.site, episodes.patient_pseudonym, episodes.episode_no, scores.scale,
        scores.lower_is_better, scores.assessment_date as baseline_date,
        scores.score as baseline_score
    from episodes
    inner join scores
        on scores.site = episodes.site
        and scores.patient_pseudonym = episodes.patient_pseudonym
        and scores.assessment_date
            between episodes.c1d1_date - {{ var('baseline_lookback_days') }}
            and episodes.c1d1_date
    qualify row_number() over (
        partition by episodes.site, episodes.patient_pseudonym, episodes.episode_no,
                     scores.scale
        order by scores.assessment_date desc) = 1
),

follow_ups as (
    select
        episodes.site, episodes.patient_pseudonym, episodes.episode_no, windows."window",
        scores.scale, scores.lower_is_better, scores.assessment_date as follow_up_date,
        scores.score as follow_up_score
    from episodes
    cross join windows
    inner join scores
        on scores.site = episodes.site
        and scores.patient_pseudonym = episodes.patient_pseudonym
        and scores.assessment_date
            between episodes.last_cycle_date + windows.start_days
            and episodes.last_cycle_date + windows.end_days
        and {{ before_next_episode('scores.assessment_date') }}
    qualify row_number() over (
        partition by episodes.site, episodes.patient_pseudonym, episodes.episode_no,
                     windows."window", scores.scale
        order by abs(scores.assessment_date
                     - (episodes.last_cycle_date + windows.target_days)),
                 scores.assessment_date desc) = 1
),

grid as (
    select site, patient_pseudonym, episode_no, "window", scale, lower_is_better
    from baselines cross join windows
    union
    select site, patient_pseudonym, episode_no, "window", scale, lower_is_better
    from follow_ups
),

deltas as (
    select
        grid.site, grid.patient_pseudonym, grid.episode_no, episodes.phase, grid."window",
        grid.scale, grid.lower_is_better, baselines.baseline_date, baselines.baseline_score,
        follow_ups.follow_up_date, follow_ups.follow_up_score,
        follow_ups.follow_up_score - baselines.baseline_score as delta
    from grid
    inner join episodes
        on episodes.site = grid.site and episodes.patient_pseudonym = grid.patient_pseudonym
        and episodes.episode_no = grid.episode_no
    left join baselines
        on baselines.site = grid.site and baselines.patient_pseudonym = grid.patient_pseudonym
        and baselines.episode_no = grid.episode_no and baselines.scale = grid.scale
    left join follow_ups
        on follow_ups.site = grid.site
        and follow_ups.patient_pseudonym = grid.patient_pseudonym
        and follow_ups.episode_no = grid.episode_no and follow_ups."window" = grid."window"
        and follow_ups.scale = grid.scale
)

{% set mid = var('minimal_important_difference') %}
select
    *,
    case
        when delta is null then null
        when lower_is_better and {{ at_most('delta', -mid) }} then 'improved'
        when lower_is_better and {{ at_least('delta', mid) }} then 'worsened'
        when not lower_is_better and {{ at_least('delta', mid) }} then 'improved'
        when not lower_is_better and {{ at_most('delta', -mid) }} then 'worsened'
        else 'unchanged'
    end as classification,
    case
        when baseline_score is null then null
        when lower_is_better then {{ exceeds('baseline_score', 0) }}
        else {{ below('baseline_score', 100) }}
    end as impaired_at_baseline
from deltas
{% endmacro %}
