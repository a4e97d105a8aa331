-- Contract version 1 of analytics.km_curves: the columns of marts.km_curve as of this version.
select
    endpoint,
    criterion,
    factor,
    stratum,
    days,
    months,
    survival,
    ci_lower,
    ci_upper,
    at_risk,
    events,
    censored
from {{ published(ref('km_curve')) }}
