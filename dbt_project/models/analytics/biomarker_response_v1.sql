-- Contract version 1 of analytics.biomarker_response: the columns of marts.fct_biomarker_response as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    cga_baseline_date,
    cga_baseline_ng_ml,
    cga_nadir_date,
    cga_nadir_ng_ml,
    cga_percent_change,
    cga_decrease_of_50_percent,
    nse_baseline_date,
    nse_baseline_ng_ml,
    nse_nadir_date,
    nse_nadir_ng_ml,
    nse_percent_change,
    nse_decrease_of_50_percent,
    cga_baseline_above_600
from {{ published(ref('fct_biomarker_response')) }}
