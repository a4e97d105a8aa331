-- One row per patient and episode of PRRT: cycles, cumulative activity, planned cycles
-- completed (spec §7). Cumulative GBq sums known activities; cycles with an unknown
-- activity are counted separately (spec §8).
with episodes as (
    select * from {{ ref('int_treatment_episodes_numbered') }}
),

phases as (
    select * from {{ ref('phases') }}
)

select
    episodes.site::varchar as site,
    episodes.patient_pseudonym::varchar as patient_pseudonym,
    episodes.episode_no::integer as episode_no,
    episodes.phase::varchar as phase,
    episodes.c1d1_date::date as c1d1_date,
    episodes.last_cycle_date::date as last_cycle_date,
    episodes.next_episode_c1d1_date::date as next_episode_c1d1_date,
    (episodes.next_episode_c1d1_date - interval 1 day)::date as window_end_date,
    episodes.cycles_given::integer as cycles_given,
    episodes.cycles_with_unknown_activity::integer as cycles_with_unknown_activity,
    coalesce(episodes.cumulative_activity_gbq, 0)::decimal(18, 9) as cumulative_activity_gbq,
    phases.planned_cycles::integer as planned_cycles,
    (episodes.cycles_given >= phases.planned_cycles)::boolean as planned_cycles_completed
from episodes
inner join phases on phases.phase = episodes.phase
