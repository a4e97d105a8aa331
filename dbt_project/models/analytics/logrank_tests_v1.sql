-- Contract version 1 of analytics.logrank_tests: the columns of marts.km_logrank as of this version.
select
    endpoint,
    criterion,
    factor,
    strata,
    n,
    events,
    chi_square,
    degrees_of_freedom,
    p_value
from {{ published(ref('km_logrank')) }}
