"""CDISC SDTM datasets in SAS transport (XPORT v5) files, one per domain.

Read with ``etl.extract.xport``. Numeric variables become text as
``canonical.written_number`` writes them (``EXSEQ`` 1.0 -> ``1``), character variables
are decoded in the mapping's encoding and stripped, blanks become missing.
``source_row`` is the record number in the dataset (1 = first record). SUPPQUAL
datasets (``supplemental:`` in a mapping) are pivoted, one column per ``QNAM``, and
joined to their parent domain by subject and, for record-level qualifiers, by the
``IDVAR`` / ``IDVARVAL`` pair.
"""

from collections.abc import Collection
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from etl.canonical import SOURCE_ROW, written_number
from etl.distinct import cell_texts, fixed_width_texts
from etl.errors import DeliveryRejected
from etl.extract.headers import as_named
from etl.extract.xport import NotTransport, Variable, read_transport, unpadded
from etl.mapping import ReaderOptions

SUBJECT = "USUBJID"
SUPPQUAL_COLUMNS = {SUBJECT, "IDVAR", "IDVARVAL", "QNAM", "QVAL"}


def read_dataset(path: Path, options: ReaderOptions, named: Collection[str] = ()
                 ) -> pd.DataFrame:
    """The dataset's variables as text, in file order, named as the mapping ``named``
    them (``headers.as_named``: SAS does not tell ``usubjid`` from ``USUBJID``)."""
    try:
        _, variables = read_transport(path)
    except (NotTransport, OSError) as error:
        raise DeliveryRejected(f"{path}: not a readable SAS transport (XPORT) file: "
                               f"{error}") from None
    missing = {token.strip() for token in options.missing}
    records = len(variables[0].values) if variables else 0
    names = as_named([variable.name for variable in variables], named, path)
    frame = pd.DataFrame({
        name: (cell_texts(pd.Series(variable.values),
                          partial(_number_text, decimal_mark=options.decimal), missing)
                        if variable.is_numeric else
                        _character_texts(path, variable, options.encoding, missing))
        for name, variable in zip(names, variables, strict=True)}, index=range(records))
    frame[SOURCE_ROW] = range(1, records + 1)
    return frame


def _number_text(value: float, decimal_mark: str) -> str | None:
    if value is None or np.isnan(value):
        return None
    return written_number(float(value), decimal_mark)


def _character_texts(path: Path, variable: Variable, encoding: str,
                     missing: set[str]) -> pd.Series:
    """A character variable as stripped text; bytes that are not text in the mapping's
    encoding reject the delivery, naming the record."""
    def to_text(stored: bytes) -> str:
        try:
            return unpadded(stored).decode(encoding).strip()
        except UnicodeDecodeError as error:
            record = int(np.flatnonzero(variable.values == stored)[0]) + 1
            raise DeliveryRejected(
                f"{path}: record {record}, variable {variable.name}: not {encoding} text "
                f"({error.reason} at byte {error.start + 1}: {stored.rstrip()!r}); set the "
                "reader's encoding in the site mapping") from None

    return fixed_width_texts(variable.values, to_text, missing)


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
