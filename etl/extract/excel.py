"""Excel workbooks (.xlsx): one worksheet per extract, header in the first row (or the
mapping's ``header_row``).

Read with python-calamine (about eight times faster than openpyxl on large sheets).
Cells come back typed; they are turned into the same text the other readers produce,
so one mapper serves every family: numbers as ``canonical.written_number`` writes them,
date cells as ISO 8601 (``2021-03-24``, with the time when there is one), error cells
and percentages as Excel shows them (``#N/A``, ``15%``: ``excel_shown``).
"""

from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from functools import partial
from pathlib import Path

import pandas as pd
from python_calamine import CalamineError, CalamineWorkbook

from etl.canonical import SOURCE_ROW, written_number
from etl.distinct import cell_texts
from etl.errors import DeliveryRejected
from etl.extract.excel_shown import shown_cells
from etl.extract.headers import as_named
from etl.mapping import HEADER_ROW_HINT, ReaderOptions


def read_sheet(path: Path, options: ReaderOptions, sheet: str | None,
               named: Collection[str] = ()) -> pd.DataFrame:
    """All cells of ``sheet`` as stripped text, missing as NA; ``source_row`` = sheet row;
    header names spelled as the mapping ``named`` them (``headers.as_named``)."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except (CalamineError, OSError, ValueError) as error:
        raise DeliveryRejected(f"{path}: not a readable Excel workbook: {error}") from None
    name = _worksheet(path, workbook.sheet_names, sheet)
    try:
        rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except (CalamineError, ValueError) as error:
        raise DeliveryRejected(f"{path}[{sheet}]: unreadable worksheet: {error}") from None
    if not rows:
        raise DeliveryRejected(f"{path}[{sheet}]: the worksheet is empty (no header row)")
    for (row, column), shown in shown_cells(path, name, options.decimal).items():
        rows[row - 1][column - 1] = shown  # rows begin at A1 (skip_empty_area=False)
    above = options.header_row - 1  # rows above the header: a title, the export's date
    text = partial(_text, decimal_mark=options.decimal)
    names = [text(cell) or "" for cell in (rows[above] if above < len(rows) else [])]
    if not any(names):
        raise DeliveryRejected(f"{path}[{name}]: row {options.header_row} is no header (it "
                               f"is empty); {HEADER_ROW_HINT}")
    header = as_named(names, named, f"{path}[{name}]")
    body = pd.DataFrame(rows[above + 1:], dtype=object)  # short rows padded with None
    body = body.reindex(columns=range(max(len(header), body.shape[1])), fill_value="")
    missing = {token.strip() for token in options.missing}
    columns = {}
    for index, column in enumerate(header):
        if column:
            columns[column] = cell_texts(body[index], text, missing)
    frame = pd.DataFrame(columns, index=range(len(body)))
    frame[SOURCE_ROW] = range(above + 2, above + 2 + len(body))  # the sheet's row numbers
    return _without_blank_rows(frame)


def _worksheet(path: Path, names: list[str], sheet: str | None) -> str:
    """The worksheet the mapping names, ignoring case and blanks around the name (a tab
    renamed by hand: ``Labor `` for ``Labor``); two such matches are refused by name."""
    if sheet in names:
        return sheet
    wanted = (sheet or "").strip().casefold()
    found = [name for name in names if name.strip().casefold() == wanted]
    if len(found) == 1:
        return found[0]
    if found:
        raise DeliveryRejected(f"{path}: several worksheets match {sheet!r}: "
                               f"{', '.join(map(repr, found))}")
    raise DeliveryRejected(f"{path}: no worksheet {sheet!r} (found: {', '.join(names)})")


def _text(cell: object, decimal_mark: str) -> str | None:
    if cell is None or cell == "":
        return None
    if isinstance(cell, bool):
        return "true" if cell else "false"
    if isinstance(cell, float):
        return written_number(cell, decimal_mark)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, time | timedelta):
        return str(cell)
    return str(cell).strip() or None


def _without_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A worksheet row without a value is no record, as an empty line of delimited text
    is none: formatting stretches a sheet's used range below the data, and a hand-kept
    sheet has empty rows between its records (each was quarantined, its patient id
    empty). The other rows keep their row numbers."""
    filled = frame.drop(columns=SOURCE_ROW).notna().any(axis=1)
    return frame if filled.all() else frame[filled].reset_index(drop=True)
