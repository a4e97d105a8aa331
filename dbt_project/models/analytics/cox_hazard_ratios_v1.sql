-- Contract version 1 of analytics.cox_hazard_ratios: the columns of marts.cox_model as of this version.
select
    endpoint,
    criterion,
    covariate,
    n,
    events,
    hazard_ratio,
    ci_lower,
    ci_upper,
    p_value,
    note
from {{ published(ref('cox_model')) }}
