"""CDISC SDTM datasets in SAS transport (XPORT v5) files, one per domain.

Read with pyreadstat. Numeric variables become text without a trailing ``.0`` when whole
(``EXSEQ`` 1.0 -> ``1``), character variables are stripped, blanks become missing.
``source_row`` is the record number in the dataset (1 = first record). SUPPQUAL
datasets (``supplemental:`` in a mapping) are pivoted, one column per ``QNAM``, and
joined to their parent domain by subject and, for record-level qualifiers, by the
``IDVAR`` / ``IDVARVAL`` pair.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from etl.canonical import SOURCE_ROW
from etl.distinct import cell_texts, listed_cell_texts
from etl.errors import DeliveryRejected
from etl.mapping import ReaderOptions

SUBJECT = "USUBJID"
SUPPQUAL_COLUMNS = {SUBJECT, "IDVAR", "IDVARVAL", "QNAM", "QVAL"}


def read_dataset(path: Path, options: ReaderOptions) -> pd.DataFrame:
    """The dataset's variables as text, in file order.

    pyreadstat hands over plain lists (``output_format="dict"``): an XPORT file does not
    say how many records it holds, and for a DataFrame pyreadstat grows every column by
    100,000 rows with ``np.append``, which copies the whole column each time (pyreadstat
    read a 5-million record ``qs.xpt`` in 31-36 s that way, in about 10 s as lists)."""
    try:
        raw, metadata = pyreadstat.read_xport(str(path), encoding=options.encoding,
                                              output_format="dict")
    except (pyreadstat.ReadstatError, OSError, UnicodeDecodeError, ValueError) as error:
        raise DeliveryRejected(f"{path}: not a readable SAS transport (XPORT) file: "
                               f"{error}") from None
    missing = {token.strip() for token in options.missing}
    records = len(next(iter(raw.values()), ()))  # every list holds every record
    columns = {}
    for name, values in raw.items():
        if metadata.readstat_variable_types[name] == "double":
            texts = cell_texts(pd.Series(values, dtype="float64"), _number_text, missing)
        else:
            texts = listed_cell_texts(values, _character_text, missing)
        columns[str(name).strip()] = texts
    frame = pd.DataFrame(columns, index=range(records))
    frame[SOURCE_ROW] = range(1, records + 1)
    return frame


def _number_text(value: float) -> str | None:
    if value is None or np.isnan(value):
        return None
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _character_text(value: object) -> str | None:
    return None if pd.isna(value) else str(value).strip()


def add_supplemental(parent: pd.DataFrame, supplemental: pd.DataFrame, label: str
                     ) -> pd.DataFrame:
    """The parent domain with one column per supplemental qualifier (``QNAM``)."""
    missing = SUPPQUAL_COLUMNS - set(supplemental.columns)
    if missing:
        raise DeliveryRejected(f"{label}: not a SUPPQUAL dataset; missing "
                               f"{', '.join(sorted(missing))}")
    clashes = set(supplemental["QNAM"].dropna()) & (set(parent.columns) - {SUBJECT})
    if clashes:
        raise DeliveryRejected(f"{label}: qualifier name(s) {', '.join(sorted(clashes))} "
                               "clash with variables of the parent domain")
    result = parent
    for idvar, group in supplemental.groupby(supplemental["IDVAR"].fillna(""), sort=True):
        keys = [SUBJECT] + (["IDVARVAL"] if idvar else [])
        duplicated = group.duplicated(subset=[*keys, "QNAM"], keep=False)
        if duplicated.any():
            first = group[duplicated].iloc[0]
            raise DeliveryRejected(f"{label}: record {int(first[SOURCE_ROW])}: qualifier "
                                   f"{first['QNAM']} given twice for the same record")
        wide = group.pivot(index=keys, columns="QNAM", values="QVAL").reset_index()
        wide.columns.name = None
        if idvar:
            if idvar not in result.columns:
                raise DeliveryRejected(f"{label}: IDVAR {idvar} is not a variable of the parent")
            wide = wide.rename(columns={"IDVARVAL": idvar})
            result = result.merge(wide, on=[SUBJECT, idvar], how="left", suffixes=("", "_dup"))
        else:
            result = result.merge(wide, on=SUBJECT, how="left")
    return result
