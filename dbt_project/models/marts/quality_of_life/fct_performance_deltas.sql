-- Baseline, follow-up and change per episode and window of Karnofsky (spec §2); ECOG has
-- no deltas.
select {{ score_delta_columns() }}
from {{ ref('int_score_deltas') }}
where scale = 'KPS'
