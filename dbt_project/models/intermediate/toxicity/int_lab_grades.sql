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

-- sex and baseline joined to each value once, before each value meets its several rules
graded_values as (
    select in_periods.*, patients.sex, sex_specific.by_sex, baselines.baseline_value
    from in_periods
    inner join sex_specific on sex_specific.analyte = in_periods.analyte
    left join {{ ref('stg_raw__patients') }} as patients
        on patients.site = in_periods.site
        and patients.patient_pseudonym = in_periods.patient_pseudonym
    left join baselines
        on baselines.site = in_periods.site
        and baselines.patient_pseudonym = in_periods.patient_pseudonym
        and baselines.episode_no = in_periods.episode_no
        and baselines.analyte = in_periods.analyte
),

-- a value's grade depends on its analyte, the value, the patient's sex and the episode's
-- baseline alone: each distinct combination is graded once (far fewer than the values)
combinations as (
    select distinct analyte, value, sex, by_sex, baseline_value from graded_values
),

candidates as (
    select
        combinations.*,
        rules.term,
        rules.grade,
        case rules.reference
            when 'lower_limit' then limits.lower_limit * rules.factor
            when 'upper_limit' then limits.upper_limit * rules.factor
            when 'baseline' then combinations.baseline_value * rules.factor
            else rules.factor
        end as threshold,
        rules.direction
    from combinations
    inner join rules on rules.analyte = combinations.analyte
    left join limits
        on limits.analyte = combinations.analyte
        and (limits.sex is null or limits.sex = combinations.sex)
),

combination_grades as (
    select
        analyte, value, sex, baseline_value, term,
        case
            when any_value(by_sex) and sex is null then null
            else coalesce(max(grade) filter (where
                (direction = 'below' and {{ below('value', 'threshold') }})
                or (direction = 'above' and {{ exceeds('value', 'threshold') }})), 0)
        end::integer as grade
    from candidates
    group by analyte, value, sex, baseline_value, term
)

-- one row per value and term without grouping: a value is one per patient, date and
-- analyte (raw's natural key), each join of graded_values finds at most one row, and
-- combination_grades has one per term of the value's combination
select
    graded_values.site, graded_values.patient_pseudonym, graded_values.episode_no,
    graded_values.period, combination_grades.term, graded_values.analyte,
    graded_values.sample_date, graded_values.value, combination_grades.grade
from graded_values
inner join combination_grades
    on combination_grades.analyte = graded_values.analyte
    and combination_grades.value = graded_values.value
    and combination_grades.sex is not distinct from graded_values.sex
    and combination_grades.baseline_value is not distinct from graded_values.baseline_value
