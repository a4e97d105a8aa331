-- Contract version 1 of analytics.tumour_response: the columns of marts.fct_tumour_response as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    criterion,
    exam_date,
    days_since_c1d1,
    baseline_exam_date,
    baseline_sld_mm,
    sld_mm,
    lesions_in_set,
    lesions_not_measured,
    nadir_sld_mm,
    percent_change_from_baseline,
    percent_change_from_nadir,
    change_from_nadir_mm,
    has_new_lesion,
    category,
    category_origin,
    reported_category,
    agrees_with_reported
from {{ published(ref('fct_tumour_response')) }}
