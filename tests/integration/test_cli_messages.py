"""What ``prrt`` prints is data: brackets in a message (a worksheet ``[labor]``, a glob
``[/]``, a regular expression ``[a-z]``) are printed as they are, and a line is not
broken where no terminal is (a night's log)."""

import subprocess
from pathlib import Path

from etl.mapping import PACKAGED_SITES_DIR
from tests.conftest import PRRT

MAPPING = """
site: NEW
name: a new centre
format: delimited
delivery: {pattern: "new_(?P<export_date>[0-9]{8})"}
patient_id: pid
extracts:
  - table: treatment_cycle
    file: "cycles[/].csv"
    sheet: labor
    fields:
      cycle_date: date
      phase: {constant: regular}
"""


def test_a_message_is_printed_whole_with_its_brackets(tmp_path: Path):
    (tmp_path / "new.yml").write_text(MAPPING)
    result = subprocess.run([PRRT, "sites"], capture_output=True, text=True, env={
        "PATH": "/usr/bin:/bin", "PRRT_HOME": str(tmp_path / "home"),
        "PRRT_SITES_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"error: {tmp_path / 'new.yml'}: invalid site mapping",
        "  (top level): Value error, extracts[0] (cycles[/].csv[labor] -> treatment_cycle): "
        "'sheet' applies to Excel workbooks only"]


def test_a_table_printed_to_a_pipe_is_not_cut_to_80_columns(tmp_path: Path):
    result = subprocess.run([PRRT, "sites"], capture_output=True, text=True, env={
        "PATH": "/usr/bin:/bin", "PRRT_HOME": str(tmp_path / "home")})
    assert result.returncode == 0
    [row] = [line for line in result.stdout.splitlines() if line.startswith("│ BBK ")]
    assert "BBK_export_(?P<export_date>\\d{4}-\\d{2}-\\d{2})\\.xlsx" in row
    assert str(PACKAGED_SITES_DIR / "bbk.yml") in row
