-- One row per episode, endpoint and criterion of fct_time_to_event with the baseline
-- factors the survival statistics stratify and adjust by (seed survival_factors).
-- Objective response is the episode's best response under the row's own criterion.
select
    tte.site,
    tte.patient_pseudonym,
    tte.episode_no,
    tte.phase,
    tte.endpoint,
    tte.criterion,
    tte.days,
    tte.is_event,
    patients.primary_origin,
    patients.ki67_above_10,
    biomarkers.cga_baseline_above_600,
    patients.bone_metastases,
    patients.liver_metastases,
    patients.age_at_first_cycle,
    best.is_objective_response as objective_response
from {{ ref('fct_time_to_event') }} as tte
left join {{ ref('dim_patient') }} as patients
    on patients.site = tte.site and patients.patient_pseudonym = tte.patient_pseudonym
left join {{ ref('fct_biomarker_response') }} as biomarkers
    on biomarkers.site = tte.site
    and biomarkers.patient_pseudonym = tte.patient_pseudonym
    and biomarkers.episode_no = tte.episode_no
left join {{ ref('fct_best_response') }} as best
    on best.site = tte.site
    and best.patient_pseudonym = tte.patient_pseudonym
    and best.episode_no = tte.episode_no
    and best.criterion = tte.criterion
