-- Baseline, follow-up and change per episode, window and QLQ-C30 scale (spec §2).
select {{ score_delta_columns() }}
from {{ ref('int_score_deltas') }}
where scale <> 'KPS'
