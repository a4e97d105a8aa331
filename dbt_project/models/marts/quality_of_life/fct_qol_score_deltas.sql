-- Baseline, follow-up and change per episode, window and QLQ-C30 scale (spec §2), derived
-- again only for the patients whose records changed (macros/changed_patients.sql).
{{ rebuilt_per_patient() }}
select {{ score_delta_columns() }}
from ({{ score_deltas(for_changed_patients(ref('int_treatment_episodes_numbered')),
                      for_changed_patients(ref('int_scored_assessments'))) }})
where scale <> 'KPS'
