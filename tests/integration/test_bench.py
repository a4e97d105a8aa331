"""The benchmark code at a tiny size (the real runs are `make bench`, never `make test`)."""

import json
from pathlib import Path

import pandas as pd
import pyreadstat

from etl.bench.runner import STAGES, code_version, excel_cap, run


def rows_in(path: Path) -> int:
    if path.suffix == ".csv":
        return len(pd.read_csv(path, sep=None, engine="python", dtype=str,
                               encoding="latin-1"))
    if path.suffix == ".xlsx":
        return sum(len(f) for f in pd.read_excel(path, sheet_name=None).values())
    # pyreadstat: pandas takes the blank fields ending dm.xpt's last record for padding
    return len(pyreadstat.read_xport(str(path))[0])


def test_a_tiny_benchmark_measures_every_stage_and_both_baselines(tmp_path, monkeypatch):
    monkeypatch.delenv("PRRT_HOME", raising=False)
    messages: list[str] = []
    target = run([12], tmp_path / "work", tmp_path / "results", seed=3, naive_rows=7,
                 say=messages.append)
    result = json.loads(target.read_text())
    size = result["sizes"][0]
    assert size["patients_per_centre"] == 12 and size["excel_centre_patients"] == 12
    assert set(size["night1"]["stages"]) == set(STAGES)
    assert all(t["wall_s"] > 0 and t["cpu_s"] >= 0 for t in size["night1"]["stages"].values())
    for night in ("night1", "night2"):
        process = size[night]["process"]
        assert process["returncode"] == 0 and process["wall_s"] > 0
        assert process["peak_rss_mb"] > 50  # a Python process with DuckDB and pandas
    # a file feeding several tables counts once per extract; night 2 is the next day
    assert size["rows_mapped_night1"] > size["rows_night1"] > 0
    assert size["rows_mapped_night2"] > 0
    assert sorted(p.name for p in (tmp_path / "work" / "night2").iterdir()) == [
        "BBK_export_2026-06-02.xlsx", "IOW_20260602", "ROT_20260602", "TRL_20260602"]
    night1 = tmp_path / "work" / "night1"
    files = [p for p in night1.rglob("*") if p.suffix in (".csv", ".xlsx", ".xpt")]
    assert size["floor"]["rows"] == size["rows_night1"] == sum(rows_in(p) for p in files)
    csvs = [p for p in files if p.suffix == ".csv"]
    assert size["naive"]["rows"] == sum(min(7, rows_in(p)) for p in csvs)
    assert size["naive"]["scaled_wall_s"] > 0
    assert size["ratios"]["night2_over_night1"] > 0
    table = target.with_suffix(".md").read_text()
    assert "| 12 (BBK 12) |" in table and result["machine"]["cores"] >= 1
    # the commit the run measured, when the code is a git checkout (None otherwise)
    assert result["commit"] == code_version()
    assert (f"code at commit {result['commit']}." in table if result["commit"]
            else "code at commit" not in table)
    assert "Stages of night 2" in table and result["wall_s"] > 0
    assert 0 < size["synth_wall_s"] < result["wall_s"]
    assert f"took 12: {size['synth_wall_s']:.0f} s." in table


def test_the_excel_centre_is_capped_by_the_sheet_row_limit():
    cap = excel_cap(1_000_000, seed=1)
    assert 5_000 < cap < 1_000_000
    assert excel_cap(100, seed=1) == 100
