"""Built with numpy by etl.analysis.survival_tables.log_rank_tests (spec §5, §8); the factors
come from the seed survival_factors."""


def model(dbt, session):
    from etl.analysis.survival_tables import log_rank_tests

    dbt.config(materialized="table")
    cohort = dbt.ref("int_survival_cohort").df()
    factors = dbt.ref("survival_factors").df()
    return log_rank_tests(cohort, factors)
