"""What analysts and BI tools get from the demo release: the analyst guide's queries, the
analytic views and their Parquet copies, small-cell protection, the data dictionary and
the outcomes report rendered in a real browser."""

import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from etl.config import Settings
from tests.conftest import TEST_KEY, prrt

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "analyst-guide.md"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The release of `prrt demo` (200 synthetic patients per centre, four centres)."""
    home = tmp_path_factory.mktemp("demo") / "home"
    settings = Settings(home=home, pseudonym_key=TEST_KEY, sites_dir=None, keep_releases=5,
                        dbt_project_dir=GUIDE.parents[1] / "dbt_project")
    result = prrt(settings, "demo")
    assert result.returncode == 0, result.stderr[-3000:]
    return (home / "current").resolve()


def query(release: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(release / "warehouse.duckdb"), read_only=True) as connection:
        return connection.sql(sql).df()


def guide_queries() -> list[str]:
    return re.findall(r"```sql\n(.*?)```", GUIDE.read_text(encoding="utf-8"), re.DOTALL)


def kaplan_meier_median(days: pd.Series, events: pd.Series) -> float | None:
    """Product-limit estimate written out here; the first time S(t) <= 0.5 (spec §8)."""
    survival = 1.0
    for time in sorted(days[events].unique()):
        at_risk = (days >= time).sum()
        survival *= 1 - ((days == time) & events).sum() / at_risk
        if survival <= 0.5 + 1e-9:
            return float(time)
    return None


def test_the_guide_has_the_three_questions():
    assert len(guide_queries()) == 3


def test_median_time_to_progression_by_phase_from_sql_alone(demo):
    answer = query(demo, guide_queries()[0]).set_index("phase")
    assert list(answer.index) == ["regular", "salvage"]
    survival = query(demo, "SELECT phase, days, is_event FROM analytics.survival "
                           "WHERE endpoint = 'TTP' AND criterion = 'SWOG'")
    for phase, rows in survival.groupby("phase"):
        assert answer.loc[phase, "episodes"] == len(rows)
        assert answer.loc[phase, "events"] == rows["is_event"].sum()
        median = kaplan_meier_median(rows["days"], rows["is_event"].astype(bool))
        expected = None if median is None else round(median / 30.4375, 1)
        got = answer.loc[phase, "median_ttp_months"]
        assert (None if pd.isna(got) else got) == expected, phase
    regular = answer.loc["regular"]
    assert regular["ci_lower_months"] <= regular["median_ttp_months"] <= regular[
        "ci_upper_months"]


def test_share_improved_among_impaired_at_baseline_from_sql_alone(demo):
    answer = query(demo, guide_queries()[1]).set_index("window")
    changes = query(demo, 'SELECT "window", classification FROM analytics.qol_changes '
                          "WHERE scale = 'QL2' AND phase = 'regular' AND impaired_at_baseline "
                          "AND classification IS NOT NULL")
    assert list(answer.index) == ["FU6W", "M6", "M12"]
    for window, rows in changes.groupby("window"):
        improved = (rows["classification"] == "improved").sum()
        assert answer.loc[window, "impaired_with_follow_up"] == len(rows)
        assert answer.loc[window, "improved"] == improved
        assert answer.loc[window, "percent_improved"] == round(100 * improved / len(rows), 1)
    assert answer["improved"].sum() > 0


def test_best_response_distribution_per_criterion_from_sql_alone(demo):
    answer = query(demo, guide_queries()[2])
    best = query(demo, "SELECT criterion, best_response FROM analytics.best_response "
                       "WHERE phase = 'regular'")
    expected = best.value_counts().rename("episodes").reset_index()
    merged = answer.merge(expected, on=["criterion", "best_response"], suffixes=("", "_x"))
    assert len(merged) == len(answer) == len(expected)
    assert (merged["episodes"] == merged["episodes_x"]).all()
    assert answer.groupby("criterion")["percent"].sum().round(0).eq(100).all()
    assert set(answer["criterion"]) == {"SWOG", "RECIST11", "MMDA"}


def test_every_analytic_view_is_described_and_exported_as_parquet(demo):
    views = query(demo, "SELECT view_name, comment FROM duckdb_views() "
                        "WHERE schema_name = 'analytics'")
    tables = query(demo, "SELECT table_name FROM duckdb_tables() WHERE schema_name = "
                         "'analytics'")
    assert {"qol_changes", "best_response", "survival", "km_curves",
            "survival_medians"} <= set(views["view_name"])
    assert views["comment"].notna().all()
    undescribed = query(demo, "SELECT table_name, column_name FROM duckdb_columns() "
                              "WHERE schema_name = 'analytics' AND comment IS NULL")
    assert undescribed.empty, undescribed
    for name in [*views["view_name"], *tables["table_name"]]:
        rows = query(demo, f"SELECT count(*) AS n FROM analytics.{name}")["n"].iloc[0]
        parquet = demo / "parquet" / f"{name}.parquet"
        assert duckdb.sql(f"SELECT count(*) FROM '{parquet}'").fetchone()[0] == rows, name
    assert query(demo, "SELECT count(*) AS n FROM analytics.km_curves")["n"].iloc[0] > 0


def test_no_small_count_is_visible_in_the_shared_aggregates(demo):
    for view in ("best_response_distribution", "qol_change_distribution"):
        counts = query(demo, f"SELECT n, is_suppressed FROM analytics.{view}")
        visible = counts[~counts["is_suppressed"]]["n"]
        assert not ((visible > 0) & (visible < 5)).any(), view
        assert counts["n"][counts["is_suppressed"]].isna().all(), view
    assert query(demo, "SELECT count(*) AS n FROM analytics.best_response_distribution "
                       "WHERE is_suppressed")["n"].iloc[0] > 0


def test_the_data_dictionary_is_in_the_release(demo):
    page = (demo / "docs" / "index.html").read_text(encoding="utf-8")
    assert "fct_best_response" in page and "qol_changes" in page


def test_the_report_opens_in_a_browser_with_every_plot_and_table(demo):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is installed by `make test` (Debian package chromium)"
    report = demo / "report.html"
    dom = subprocess.run(
        [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
         "--virtual-time-budget=5000", "--dump-dom", report.as_uri()],
        capture_output=True, text=True, timeout=120).stdout
    assert 'data-figures="4"' in dom
    assert int(re.search(r'data-tables="(\d+)"', dom).group(1)) >= 6
    for section in ("kaplan-meier", "waterfall", "swimmer", "qol-changes", "response-tables",
                    "quality", "medians"):
        assert f'id="{section}"' in dom, section
    for criterion in ("SWOG", "RECIST11", "MMDA"):
        assert f"<h3>{criterion}</h3>" in dom
    # nothing is fetched from the network: no script, image or style sheet by address
    assert not re.search(r'(src|href)="(https?:)?//', report.read_text(encoding="utf-8"))
