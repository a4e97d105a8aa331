"""Best-response distribution per criterion, phase and centre with small cells hidden
(etl.analysis.suppression; the threshold is the dbt var small_cell_threshold)."""


def model(dbt, session):
    from etl.analysis.suppression import protected_distribution

    dbt.config(materialized="table")
    return protected_distribution(
        dbt.ref("int_best_response_counts").df(), tables=["criterion", "phase"],
        row="site", column="best_response",
        threshold=int(dbt.config.get("small_cell_threshold")), total_row="ALL")
