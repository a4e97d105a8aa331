"""Share of patients impaired at baseline who improved, stayed or worsened per window,
phase and QLQ-C30 scale, with small cells hidden (etl.analysis.suppression)."""


def model(dbt, session):
    from etl.analysis.suppression import protected_distribution

    dbt.config(materialized="table")
    return protected_distribution(
        dbt.ref("int_qol_change_counts").df(), tables=["window", "phase"],
        row="scale", column="classification",
        threshold=int(dbt.config.get("small_cell_threshold")))
