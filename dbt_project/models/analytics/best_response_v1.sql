-- Contract version 1 of analytics.best_response: the columns of marts.fct_best_response as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    criterion,
    c1d1_date,
    assessments,
    best_response,
    best_response_date,
    confirmed_best_response,
    confirmed_best_response_date,
    is_objective_response,
    is_disease_control,
    is_confirmed_objective_response,
    is_confirmed_disease_control,
    best_percent_change_from_baseline
from {{ published(ref('fct_best_response')) }}
