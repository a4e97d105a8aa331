-- Salvage cycles are given after progression on the regular course (derivations,
-- "Conventions"): an episode of salvage cycles that starts before the patient's regular
-- course cannot be interpreted (windows, baselines and TTP would be wrong). The centre
-- must correct the cycle dates or phases.
select salvage.site, salvage.patient_pseudonym, salvage.c1d1_date as salvage_c1d1,
       regular.c1d1_date as regular_c1d1
from {{ ref('fct_treatment_episode') }} as salvage
inner join {{ ref('fct_treatment_episode') }} as regular
    on regular.site = salvage.site
    and regular.patient_pseudonym = salvage.patient_pseudonym
    and regular.phase = 'regular'
where salvage.phase = 'salvage'
  and salvage.c1d1_date <= regular.c1d1_date
