-- Episodes per criterion, phase, centre and best response (unconfirmed), every category
-- present (0 where none), plus the centres together as site `ALL` (the column totals).
with best as (
    select criterion, phase, site, best_response from {{ ref('fct_best_response') }}
),

categories as (
    select category as best_response from {{ ref('response_categories') }}
    union all
    select 'MISSING'
),

tables as (
    select distinct criterion, phase, site from best
    union all
    select distinct criterion, phase, 'ALL' from best
),

counts as (
    select criterion, phase, site, best_response, count(*) as n from best group by all
    union all
    select criterion, phase, 'ALL', best_response, count(*) from best group by all
)

select tables.criterion, tables.phase, tables.site, categories.best_response,
       coalesce(counts.n, 0) as n
from tables
cross join categories
left join counts
    on counts.criterion = tables.criterion
    and counts.phase = tables.phase
    and counts.site = tables.site
    and counts.best_response = categories.best_response
