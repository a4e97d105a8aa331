"""The floor: every file of the deliveries in an inbox read straight into DuckDB tables,
no mapping, no checks. DuckDB's own CSV reader for delimited text; pandas (calamine for
Excel) for Excel and SAS XPORT, which this DuckDB reads only through extensions it would
have to download. Run as ``python -m etl.bench.floor INBOX DATABASE``.

For XPORT the floor is not a lower bound on reading: the loader's own reader
(``etl/extract/xport.py``) turns qs.xpt at 25,000 (5.1 million records) into bytes and
numbers in 0.5-1.0 s, where pandas took 18-25 s (2026-12-06, back to back). pandas also
takes blank fields at the end of a dataset's last records for the file's padding: it
reads 24,999 of the 25,000 records of the synthetic ``dm.xpt``. The floor is a time; the
"rows in files" it counts for the results can be short by such a record."""

import re
import sys
from pathlib import Path

import duckdb
import pandas as pd


def _table(path: Path, suffix: str = "") -> str:
    return re.sub(r"\W", "_", f"{path.parent.name}_{path.stem}{suffix}").lower()


def load_file(connection: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Load one delivery file (every sheet of a workbook); return the rows read."""
    rows = 0
    if path.suffix.lower() == ".csv":
        for encoding in ("utf-8", "latin-1"):
            try:
                connection.execute(
                    f"CREATE TABLE {_table(path)} AS SELECT * FROM read_csv(?, "
                    f"all_varchar = true, encoding = '{encoding}')", [str(path)])
                break
            except duckdb.InvalidInputException:
                continue
        rows = connection.sql(f"SELECT count(*) FROM {_table(path)}").fetchone()[0]
    elif path.suffix.lower() == ".xlsx":
        for sheet, frame in pd.read_excel(path, sheet_name=None, engine="calamine",
                                          dtype=str).items():
            connection.register("sheet_frame", frame)
            connection.execute(f"CREATE TABLE {_table(path, '_' + sheet)} AS "
                               "SELECT * FROM sheet_frame")
            connection.unregister("sheet_frame")
            rows += len(frame)
    elif path.suffix.lower() == ".xpt":
        frame = pd.read_sas(path, format="xport", encoding="latin-1")
        connection.register("xpt_frame", frame)
        connection.execute(f"CREATE TABLE {_table(path)} AS SELECT * FROM xpt_frame")
        connection.unregister("xpt_frame")
        rows = len(frame)
    return rows


def load_inbox(inbox: Path, database: Path) -> int:
    files = sorted(p for p in inbox.rglob("*") if p.is_file()
                   and p.suffix.lower() in (".csv", ".xlsx", ".xpt"))
    with duckdb.connect(str(database)) as connection:
        return sum(load_file(connection, path) for path in files)


if __name__ == "__main__":
    print(load_inbox(Path(sys.argv[1]), Path(sys.argv[2])))
