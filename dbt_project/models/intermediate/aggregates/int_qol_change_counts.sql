-- Patients impaired at baseline per window, phase, scale and change class (improved,
-- unchanged, worsened), every class present (0 where none). Rows without a class (no
-- follow-up score) are not counted.
with changes as (
    select "window", phase, scale, classification
    from {{ ref('fct_qol_score_deltas') }}
    where impaired_at_baseline and classification is not null
),

classes as (
    select unnest(['improved', 'unchanged', 'worsened']) as classification
),

tables as (
    select distinct "window", phase, scale from changes
),

counts as (
    select "window", phase, scale, classification, count(*) as n from changes group by all
)

select tables."window", tables.phase, tables.scale, classes.classification,
       coalesce(counts.n, 0) as n
from tables
cross join classes
left join counts
    on counts."window" = tables."window"
    and counts.phase = tables.phase
    and counts.scale = tables.scale
    and counts.classification = classes.classification
