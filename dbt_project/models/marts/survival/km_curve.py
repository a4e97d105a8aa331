"""Built with numpy by etl.analysis.survival_tables.km_curves (spec §5, §8); the factors
come from the seed survival_factors, the conventions from dbt vars (config in the yml)."""


def model(dbt, session):
    from etl.analysis.frames import frame_of
    from etl.analysis.survival_tables import km_curves

    dbt.config(materialized="table")
    cohort = frame_of(dbt.ref("int_survival_cohort"))
    factors = frame_of(dbt.ref("survival_factors"))
    return km_curves(
        cohort, factors, days_per_month=float(dbt.config.get("days_per_month")),
        tolerance=float(dbt.config.get("threshold_tolerance")))
