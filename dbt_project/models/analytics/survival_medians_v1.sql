-- Contract version 1 of analytics.survival_medians: the columns of marts.km_summary as of this version.
select
    endpoint,
    criterion,
    factor,
    stratum,
    n,
    events,
    n_unknown,
    median_days,
    median_ci_lower_days,
    median_ci_upper_days,
    median_follow_up_days,
    median_months,
    median_ci_lower_months,
    median_ci_upper_months,
    median_follow_up_months
from {{ published(ref('km_summary')) }}
