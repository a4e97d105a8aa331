-- Contract version 1 of analytics.survival: the columns of marts.fct_time_to_event as of this version.
select
    site,
    patient_pseudonym,
    episode_no,
    phase,
    endpoint,
    criterion,
    origin_date,
    end_date,
    is_event,
    days,
    months,
    reason
from {{ published(ref('fct_time_to_event')) }}
