"""Built with numpy by etl.analysis.survival_tables.km_summaries (spec §5, §8); the factors
come from the seed survival_factors, the conventions from dbt vars (config in the yml)."""


def model(dbt, session):
    from etl.analysis.survival_tables import km_summaries

    dbt.config(materialized="table")
    cohort = dbt.ref("int_survival_cohort").df()
    factors = dbt.ref("survival_factors").df()
    return km_summaries(
        cohort, factors, days_per_month=float(dbt.config.get("days_per_month")),
        tolerance=float(dbt.config.get("threshold_tolerance")))
