"""The floor: every file of the deliveries in an inbox read straight into DuckDB tables,
no mapping, no checks. DuckDB's own CSV reader for delimited text and pandas with
calamine for Excel, every cell as text; SAS XPORT, which this DuckDB reads only through
an extension it would have to download, with the loader's own reader
(``etl/extract/xport.py``), its numbers as doubles and its character variables as text
(decoded once per distinct value, handed to DuckDB through Arrow). Run as
``python -m etl.bench.floor INBOX DATABASE``.

Until 2026-12-06 the floor read XPORT with pandas' ``read_sas``, which is no lower bound:
TRL's ten files at 25,000 patients (8.4 million records) took 20.4 / 20.6 s that way and
4.4 / 5.9 s this way, so the floor overstated what reading costs and extract+write /
floor flattered the loader. pandas also took blank fields at the end of a dataset's last
records for the file's padding (24,999 of the 25,000 records of the synthetic
``dm.xpt``); the loader's reader counts every record.
"""

import re
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from etl.distinct import fixed_width_dictionary
from etl.extract.xport import Variable, read_transport, unpadded

XPORT_ENCODING = "latin-1"  # decodes any byte: the floor never stops on a file


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
        _, variables = read_transport(path)
        dataset = pa.table({variable.name: _column(variable) for variable in variables})
        connection.register("xpt_dataset", dataset)
        connection.execute(f"CREATE TABLE {_table(path)} AS SELECT * FROM xpt_dataset")
        connection.unregister("xpt_dataset")
        rows = dataset.num_rows
    return rows


def _column(variable: Variable) -> pa.Array:
    """A SAS variable as Arrow: numbers as they are, characters as text without their
    padding, each distinct value decoded once."""
    if variable.is_numeric:
        return pa.array(variable.values)
    encoded = fixed_width_dictionary(variable.values)
    texts = [unpadded(stored).decode(XPORT_ENCODING)
             for stored in encoded.dictionary.to_pylist()]
    return pa.DictionaryArray.from_arrays(encoded.indices, pa.array(texts, pa.string()))


def load_inbox(inbox: Path, database: Path) -> int:
    files = sorted(p for p in inbox.rglob("*") if p.is_file()
                   and p.suffix.lower() in (".csv", ".xlsx", ".xpt"))
    with duckdb.connect(str(database)) as connection:
        return sum(load_file(connection, path) for path in files)


if __name__ == "__main__":
    print(load_inbox(Path(sys.argv[1]), Path(sys.argv[2])))
