-- CgA and NSE response per patient and episode, one row per episode (spec §7, §8). Baseline: the last value in
-- [C1D1 - 42 d, C1D1] (several on that date: the highest). Nadir: the lowest value after
-- C1D1 up to L + 182 d, before the next episode's C1D1 (ties: the earliest). Only values in
-- the canonical unit (ng/mL) count.
with episodes as (
    select site, patient_pseudonym, episode_no, phase, c1d1_date, last_cycle_date,
           next_episode_c1d1_date
    from {{ ref('int_treatment_episodes_numbered') }}
),

markers as (
    select site, patient_pseudonym, sample_date, analyte, value
    from {{ ref('stg_raw__lab_results') }}
    where analyte in ('CGA', 'NSE') and is_canonical_unit and value is not null
),

baselines as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no, markers.analyte,
           markers.sample_date as baseline_date, markers.value as baseline_value
    from episodes
    inner join markers
        on markers.site = episodes.site
        and markers.patient_pseudonym = episodes.patient_pseudonym
        and markers.sample_date
            between episodes.c1d1_date - {{ var('baseline_lookback_days') }}
            and episodes.c1d1_date
    qualify row_number() over (
        partition by episodes.site, episodes.patient_pseudonym, episodes.episode_no,
                     markers.analyte
        order by markers.sample_date desc, markers.value desc) = 1
),

nadirs as (
    select episodes.site, episodes.patient_pseudonym, episodes.episode_no, markers.analyte,
           markers.sample_date as nadir_date, markers.value as nadir_value
    from episodes
    inner join markers
        on markers.site = episodes.site
        and markers.patient_pseudonym = episodes.patient_pseudonym
        and markers.sample_date > episodes.c1d1_date
        and markers.sample_date
            <= episodes.last_cycle_date + {{ var('biomarker_nadir_days_after_last_cycle') }}
        and {{ before_next_episode('markers.sample_date') }}
    qualify row_number() over (
        partition by episodes.site, episodes.patient_pseudonym, episodes.episode_no,
                     markers.analyte
        order by markers.value, markers.sample_date) = 1
),

analytes as (
    select site, patient_pseudonym, episode_no, analyte from baselines
    union
    select site, patient_pseudonym, episode_no, analyte from nadirs
),

changes as (
    select
        analytes.*,
        baselines.baseline_date,
        baselines.baseline_value,
        nadirs.nadir_date,
        nadirs.nadir_value,
        case when baselines.baseline_value > 0
            then 100 * (nadirs.nadir_value - baselines.baseline_value) / baselines.baseline_value
        end as percent_change
    from analytes
    left join baselines using (site, patient_pseudonym, episode_no, analyte)
    left join nadirs using (site, patient_pseudonym, episode_no, analyte)
)

{%- set pct = var('biomarker_response_percent') %}
select
    episodes.site::varchar as site,
    episodes.patient_pseudonym::varchar as patient_pseudonym,
    episodes.episode_no::integer as episode_no,
    episodes.phase::varchar as phase,
    {%- for analyte in ['CGA', 'NSE'] %}
    {%- set a = analyte | lower %}
    max(changes.baseline_date) filter (where changes.analyte = '{{ analyte }}')::date
        as {{ a }}_baseline_date,
    max(changes.baseline_value) filter (where changes.analyte = '{{ analyte }}')::double
        as {{ a }}_baseline_ng_ml,
    max(changes.nadir_date) filter (where changes.analyte = '{{ analyte }}')::date
        as {{ a }}_nadir_date,
    max(changes.nadir_value) filter (where changes.analyte = '{{ analyte }}')::double
        as {{ a }}_nadir_ng_ml,
    max(changes.percent_change) filter (where changes.analyte = '{{ analyte }}')::double
        as {{ a }}_percent_change,
    (bool_or({{ at_most('changes.percent_change', pct) }})
        filter (where changes.analyte = '{{ analyte }}'))::boolean
        as {{ a }}_decrease_of_50_percent,
    {%- endfor %}
    (bool_or({{ exceeds('changes.baseline_value', var('cga_high_baseline_ng_ml')) }})
        filter (where changes.analyte = 'CGA'))::boolean as cga_baseline_above_600
from episodes
left join changes
    on changes.site = episodes.site
    and changes.patient_pseudonym = episodes.patient_pseudonym
    and changes.episode_no = episodes.episode_no
group by all
