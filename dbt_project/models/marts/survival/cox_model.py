"""Built with lifelines by etl.analysis.survival_tables.cox_models (spec §5, §8); the factors
come from the seed survival_factors, the conventions from dbt vars (config in the yml)."""


def model(dbt, session):
    from etl.analysis.survival_tables import cox_models

    dbt.config(materialized="table")
    cohort = dbt.ref("int_survival_cohort").df()
    factors = dbt.ref("survival_factors").df()
    return cox_models(
        cohort, factors,
        min_events_per_covariate=int(dbt.config.get("min_events_per_covariate")))
