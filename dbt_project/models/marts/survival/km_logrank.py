"""Built with numpy by etl.analysis.survival_tables.log_rank_tests (spec §5, §8); the factors
come from the seed survival_factors."""


def model(dbt, session):
    from etl.analysis.frames import frame_of
    from etl.analysis.survival_tables import log_rank_tests

    dbt.config(materialized="table")
    cohort = frame_of(dbt.ref("int_survival_cohort"))
    factors = frame_of(dbt.ref("survival_factors"))
    return log_rank_tests(cohort, factors)
