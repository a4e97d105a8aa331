-- CTCAE v5.0 grade of every laboratory value around an episode (spec §6, §8): the
-- highest grade whose rule (seed ctcae_lab_grades) holds, comparisons strict with the
-- 1e-9 tolerance, else 0. Limits by sex (seed lab_reference_limits); with unknown sex a
-- term with sex-specific limits is not graded. Creatinine is also judged against the
-- episode's baseline value. Only canonical-unit values are graded.
with episodes as (
    select site, patient_pseudonym, episode_no, c1d1_date, last_cycle_date,
           next_episode_c1d1_date
    from {{ ref('int_treatment_episodes_numbered') }}
),

rules as (
    select * from {{ ref('ctcae_lab_grades') }}
),

limits as (
    select * from {{ ref('lab_reference_limits') }}
),

sex_specific as (
    select analyte, bool_or(sex is not null) as by_sex from limits group by analyte
),

values_in_episodes as (
    select
        episodes.site, episodes.patient_pseudonym, episodes.episode_no, labs.analyte,
        labs.sample_date, labs.value,
        case
            when labs.sample_date between episodes.c1d1_date - {{ var('baseline_lookback_days') }}
                and episodes.c1d1_date then 'baseline'
            when labs.sample_date > episodes.c1d1_date
                and labs.sample_date
                    <= episodes.last_cycle_date + {{ var('toxicity_days_after_last_cycle') }}
                and {{ before_next_episode('labs.sample_date') }} then 'treatment'
        end as period
    from episodes
    inner join {{ ref('stg_raw__lab_results') }} as labs
        on labs.site = episodes.site and labs.patient_pseudonym = episodes.patient_pseudonym
    where labs.is_canonical_unit and labs.value is not null
      and labs.analyte in (select analyte from rules)
),

in_periods as (
    select * from values_in_episodes where period is not null
),

baselines as (
    select site, patient_pseudonym, episode_no, analyte, value as baseline_value
    from in_periods
    where period = 'baseline'
    qualify row_number() over (
        partition by site, patient_pseudonym, episode_no, analyte
        order by sample_date desc, value desc) = 1
),

candidates as (
    select
        in_periods.*,
        patients.sex,
        sex_specific.by_sex,
        rules.term,
        rules.grade,
        case rules.reference
            when 'lower_limit' then limits.lower_limit * rules.factor
            when 'upper_limit' then limits.upper_limit * rules.factor
            when 'baseline' then baselines.baseline_value * rules.factor
            else rules.factor
        end as threshold,
        rules.direction
    from in_periods
    inner join rules on rules.analyte = in_periods.analyte
    inner join sex_specific on sex_specific.analyte = in_periods.analyte
    left join {{ ref('stg_raw__patients') }} as patients
        on patients.site = in_periods.site
        and patients.patient_pseudonym = in_periods.patient_pseudonym
    left join limits
        on limits.analyte = in_periods.analyte
        and (limits.sex is null or limits.sex = patients.sex)
    left join baselines
        on baselines.site = in_periods.site
        and baselines.patient_pseudonym = in_periods.patient_pseudonym
        and baselines.episode_no = in_periods.episode_no
        and baselines.analyte = in_periods.analyte
)

select
    site, patient_pseudonym, episode_no, period, term, analyte, sample_date, value,
    case
        when any_value(by_sex) and any_value(sex) is null then null
        else coalesce(max(grade) filter (where
            (direction = 'below' and {{ below('value', 'threshold') }})
            or (direction = 'above' and {{ exceeds('value', 'threshold') }})), 0)
    end::integer as grade
from candidates
group by site, patient_pseudonym, episode_no, period, term, analyte, sample_date, value
