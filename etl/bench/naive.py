"""The naive baseline: an extract the way it is often written by hand. Each delimited
file is read with pandas, every row is converted in a Python loop (strip, decimal comma
to float, day-first and ISO dates), and the rows are inserted with pandas ``to_sql``
through SQLAlchemy. It runs on the first LIMIT rows of each file; the caller scales the
time per row. Run as ``python -m etl.bench.naive INBOX DATABASE LIMIT``."""

import re
import sys
from datetime import datetime
from pathlib import Path

import pandas as pd
from sqlalchemy import create_engine

NUMBER = re.compile(r"^-?\d+([.,]\d+)?$")
DATE_FORMATS = ("%d-%m-%Y", "%Y-%m-%d")


def convert(cell: object) -> object:
    """One cell as a hand-written script would treat it."""
    if not isinstance(cell, str):
        return cell
    text = cell.strip()
    if NUMBER.match(text):
        return float(text.replace(",", "."))
    for layout in DATE_FORMATS:
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    return text or None


def load_inbox(inbox: Path, database: Path, limit: int) -> int:
    engine = create_engine(f"duckdb:///{database}")
    rows = 0
    for path in sorted(inbox.rglob("*.csv")):
        try:
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, nrows=limit)
        except UnicodeDecodeError:
            frame = pd.read_csv(path, sep=None, engine="python", dtype=str, nrows=limit,
                                encoding="latin-1")
        records = [{column: convert(value) for column, value in row.items()}
                   for _, row in frame.iterrows()]
        table = re.sub(r"\W", "_", f"{path.parent.name}_{path.stem}").lower()
        pd.DataFrame(records).to_sql(table, engine, if_exists="append", index=False,
                                     chunksize=1000)
        rows += len(records)
    engine.dispose()
    return rows


if __name__ == "__main__":
    print(load_inbox(Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])))
