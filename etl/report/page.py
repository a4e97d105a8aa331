"""Assemble ``report.html`` from a release: figures from the analytic views, tables of
response distributions and medians, and the night's data-quality summary."""

import json
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from etl.report import figures
from etl.sql import identifier
from etl.transform import dbt_var

REPORT_FILE = "report.html"
SWIMMER_PATIENTS = 30  # presentation: lanes in the swimmer plot
CRITERION = "SWOG"  # presentation: the response criterion the figures and medians show
QOL_WINDOW = "M6"  # presentation: the follow-up window of the quality-of-life figure
ENDPOINTS = ["TTP", "PFS", "OS"]


def _frame(release: duckdb.DuckDBPyConnection, view: str, **equal: str) -> pd.DataFrame:
    """The rows of an analytic view whose columns hold ``equal``'s values (every row when
    none is given). The report draws SWOG's curves, medians and best responses only: with
    the views read whole, it took 2.4–2.7 s at 25,000 patients per centre, so 1.5 s (the
    page the same but for the figures' random ids and dates; 2026-12-07)."""
    where = " AND ".join(f"{identifier(column)} = ?" for column in equal)
    query = f"SELECT * FROM analytics.{identifier(view)}" + (f" WHERE {where}" if where else "")
    return release.execute(query, list(equal.values())).df()


def swimmer_lanes(episodes: pd.DataFrame, survival: pd.DataFrame, limit: int) -> pd.DataFrame:
    """Per episode of up to ``limit`` patients (salvage-treated first, then by pseudonym):
    start and treatment length, follow-up end, first SWOG progression and death, in months
    since the patient's first C1D1."""
    first = episodes.groupby(["site", "patient_pseudonym"])["c1d1_date"].transform("min")
    lanes = episodes.assign(first_c1d1=first)
    salvage = (lanes["phase"] == "salvage").groupby(
        [lanes["site"], lanes["patient_pseudonym"]]).transform("any")
    chosen = (lanes.assign(salvage=salvage)
              .sort_values(["salvage", "site", "patient_pseudonym"], ascending=[False, True, True])
              [["site", "patient_pseudonym"]].drop_duplicates().head(limit))
    lanes = lanes.merge(chosen, on=["site", "patient_pseudonym"])
    swog = survival[survival["criterion"] == CRITERION]
    os_ = swog[(swog["endpoint"] == "OS") & (swog["episode_no"] == 1)][
        ["site", "patient_pseudonym", "end_date", "is_event"]]
    ttp = swog[(swog["endpoint"] == "TTP") & swog["is_event"]][
        ["site", "patient_pseudonym", "episode_no", "end_date"]].rename(
        columns={"end_date": "progression_date"})
    lanes = lanes.merge(os_, on=["site", "patient_pseudonym"], how="left").merge(
        ttp, on=["site", "patient_pseudonym", "episode_no"], how="left")

    days_per_month = float(dbt_var("days_per_month"))

    def months(column: str) -> pd.Series:
        return (pd.to_datetime(lanes[column]) - pd.to_datetime(lanes["first_c1d1"])).dt.days \
            / days_per_month

    lanes["lane"] = lanes.groupby(["site", "patient_pseudonym"]).ngroup()
    lanes["start_months"] = months("c1d1_date")
    lanes["treatment_months"] = (months("last_cycle_date") - lanes["start_months"]
                                 + 1 / days_per_month)  # the last cycle's day included
    lanes["follow_up_months"] = months("end_date")
    lanes["progression_months"] = months("progression_date")
    lanes["died"] = lanes["is_event"].fillna(False).astype(bool)
    return lanes


def response_tables(distribution: pd.DataFrame) -> dict[str, str]:
    """Per criterion, episodes by best response (all centres), regular and salvage."""
    tables = {}
    overall = distribution[distribution["site"] == "ALL"]
    for criterion, rows in overall.groupby("criterion", sort=True):
        shown = rows.assign(cell=[
            "hidden" if hidden else f"{int(n)} ({share:.0%})"
            for n, share, hidden in zip(rows["n"], rows["share"], rows["is_suppressed"],
                                        strict=True)])
        table = shown.pivot(index="best_response", columns="phase", values="cell")
        tables[criterion] = table.to_html(classes="responses", border=0)
    return tables


def quality_panel(release_dir: Path) -> list[dict]:
    """Deliveries of the night with their row accounting and failed checks per centre."""
    path = release_dir / "quality.json"
    if not path.exists():
        return []
    quality = json.loads(path.read_text(encoding="utf-8"))
    rows = []
    for delivery in quality.get("deliveries", []):
        failed = [f for f in quality.get("failed", [])
                  if f.get("delivery_name") == delivery["delivery_name"]]
        rows.append({**delivery, "warnings": len(failed)})
    return rows


def write_report(release_dir: Path) -> Path:
    """Render the release's ``report.html`` and return its path."""
    with duckdb.connect(str(release_dir / "warehouse.duckdb"), read_only=True) as release:
        info = release.sql("SELECT * FROM main.release_info").df().iloc[0]
        by_phase = _frame(release, "km_curves", criterion=CRITERION, factor="phase")
        phase_medians = _frame(release, "survival_medians", criterion=CRITERION, factor="phase")
        regular_best = _frame(release, "best_response", criterion=CRITERION, phase="regular")
        episodes = _frame(release, "treatment_episodes")
        survival = _frame(release, "survival", criterion=CRITERION)
        qol_m6 = _frame(release, "qol_change_distribution", window=QOL_WINDOW, phase="regular")
        distribution = _frame(release, "best_response_distribution")
        criteria = release.sql("SELECT * FROM codes.response_criteria").df().set_index("criterion")
    swog = criteria.loc[CRITERION]
    lanes = swimmer_lanes(episodes, survival, SWIMMER_PATIENTS)
    page = Environment(loader=PackageLoader("etl.report"),
                       autoescape=select_autoescape()).get_template("report.html.j2")
    html = page.render(
        run_id=info["run_id"], published_at=info["published_at"],
        centres=episodes.groupby("site").agg(patients=("patient_pseudonym", "nunique"),
                                             episodes=("episode_no", "size")).reset_index()
        .to_dict("records"),
        km_svg=figures.kaplan_meier(by_phase, ENDPOINTS),
        medians=phase_medians.sort_values(["endpoint", "stratum"]).to_dict("records"),
        waterfall_svg=figures.waterfall(regular_best, (swog["minor_response_percent"],
                                                       swog["partial_response_percent"])),
        swimmer_svg=figures.swimmer(lanes),
        swimmer_patients=lanes["lane"].nunique(),  # the registry may have fewer
        qol_svg=figures.qol_change_bars(qol_m6),
        response_tables=response_tables(distribution),
        quality=quality_panel(release_dir),
    )
    target = release_dir / REPORT_FILE
    target.write_text(html, encoding="utf-8")
    return target
