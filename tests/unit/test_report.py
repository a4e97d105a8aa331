"""Pieces of the outcomes report that are worked out rather than drawn."""

import json
import warnings

import numpy as np
import pandas as pd

from etl.report.figures import _bar_runs, at_risk, kaplan_meier, waterfall
from etl.report.page import quality_panel, response_tables


def test_quality_panel_counts_failed_checks_per_delivery(tmp_path):
    (tmp_path / "quality.json").write_text(json.dumps({
        "deliveries": [
            {"site_code": "ROT", "delivery_name": "ROT_20240601", "rows_read": 10},
            {"site_code": "BBK", "delivery_name": "BBK_export.xlsx", "rows_read": 5}],
        "failed": [{"delivery_name": "ROT_20240601", "check_name": "a"},
                   {"delivery_name": "ROT_20240601", "check_name": "b"},
                   {"delivery_name": None, "check_name": "dbt test"}]}))
    panel = quality_panel(tmp_path)
    assert [(row["site_code"], row["warnings"]) for row in panel] == [("ROT", 2), ("BBK", 0)]


def test_numbers_at_risk_are_read_at_the_first_time_at_or_after_the_mark():
    curve = pd.DataFrame({"months": [0.0, 3.0, 14.0], "at_risk": [10, 10, 4]})
    assert [at_risk(curve, m) for m in (0, 12, 24)] == [10, 4, 0]


def test_waterfall_bars_of_one_colour_side_by_side_are_one_step_outline():
    polygons, faces = _bar_runs(np.array([3.0, -1.0, 2.0]), ["red", "red", "grey"])
    assert faces == ["red", "grey"]
    assert polygons[0].tolist() == [[-0.5, 0], [-0.5, 3], [0.5, 3], [0.5, -1], [1.5, -1],
                                    [1.5, 0]]
    assert polygons[1].tolist() == [[1.5, 0], [1.5, 2], [2.5, 2], [2.5, 0]]
    assert _bar_runs(np.array([]), []) == ([], [])


def test_a_registry_sized_waterfall_is_a_few_paths_not_one_per_episode():
    changes = np.linspace(80, -100, 20_000)  # sorted, as the report draws them
    responses = np.select([changes <= -50, changes <= -25, changes >= 25], ["PR", "MR", "PD"],
                          "SD")
    svg = waterfall(pd.DataFrame({"best_percent_change_from_baseline": changes,
                                  "best_response": responses}), (-25.0, -50.0))
    assert svg.count("<path") < 100  # 4 runs, two limit lines, axes and legend


def test_response_tables_show_hidden_cells_as_hidden():
    distribution = pd.DataFrame({
        "criterion": ["SWOG"] * 4, "site": ["ALL"] * 4,
        "phase": ["regular", "regular", "salvage", "salvage"],
        "best_response": ["PR", "SD", "PR", "SD"],
        "n": pd.array([30, 70, pd.NA, 9], dtype="Int64"),
        "share": [0.3, 0.7, None, 0.9], "is_suppressed": [False, False, True, False]})
    table = response_tables(distribution)["SWOG"]
    assert "30 (30%)" in table and "hidden" in table and "9 (90%)" in table


def test_survival_panels_without_episodes_say_so_and_draw_no_legend():
    curves = pd.DataFrame(columns=["endpoint", "stratum", "months", "survival", "ci_lower",
                                   "ci_upper", "at_risk"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty legend warned on every such night
        svg = kaplan_meier(curves, ["TTP", "OS"])
    assert svg.count("no episodes") == 2
