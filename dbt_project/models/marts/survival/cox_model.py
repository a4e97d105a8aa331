"""Built with lifelines by etl.analysis.survival_tables.cox_models (spec §5, §8); the factors
come from the seed survival_factors, the conventions from dbt vars (config in the yml)."""


def model(dbt, session):
    from etl.analysis.frames import frame_of
    from etl.analysis.survival_tables import cox_models

    dbt.config(materialized="table")
    cohort = frame_of(dbt.ref("int_survival_cohort"))
    factors = frame_of(dbt.ref("survival_factors"))
    return cox_models(
        cohort, factors,
        min_events_per_covariate=int(dbt.config.get("min_events_per_covariate")))
