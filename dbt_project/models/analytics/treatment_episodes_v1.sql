-- Contract version 1 of analytics.treatment_episodes: the columns of marts.fct_treatment_episode as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    c1d1_date,
    last_cycle_date,
    next_episode_c1d1_date,
    window_end_date,
    cycles_given,
    cycles_with_unknown_activity,
    cumulative_activity_gbq,
    planned_cycles,
    planned_cycles_completed
from {{ published(ref('fct_treatment_episode')) }}
