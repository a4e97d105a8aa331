-- Episodes of PRRT (spec §7, §8): one per patient and phase (all salvage cycles of a
-- patient form one salvage episode), numbered 1, 2, ... in order of their first cycle
-- (C1D1). An episode's window ends the day before the next episode's C1D1, or is open.
with cycles as (
    select * from {{ ref('stg_raw__treatment_cycles') }}
),

episodes as (
    select
        site,
        patient_pseudonym,
        phase,
        min(cycle_date) as c1d1_date,
        max(cycle_date) as last_cycle_date,
        count(*) as cycles_given,
        count(*) filter (where administered_activity_gbq is null) as cycles_with_unknown_activity,
        sum(administered_activity_gbq) as cumulative_activity_gbq
    from cycles
    group by site, patient_pseudonym, phase
)

select
    *,
    row_number() over (
        partition by site, patient_pseudonym order by c1d1_date, phase
    ) as episode_no,
    lead(c1d1_date) over (
        partition by site, patient_pseudonym order by c1d1_date, phase
    ) as next_episode_c1d1_date
from episodes
