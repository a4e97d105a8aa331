-- Baseline, follow-up and delta per episode, window and scale (spec §2, §8); the rules are
-- in macros/score_deltas.sql, shared with fct_qol_score_deltas.
{{ score_deltas(ref('int_treatment_episodes_numbered'), ref('int_scored_assessments')) }}
