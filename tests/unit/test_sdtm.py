"""The SAS transport reader: every record, numbers as text, blanks missing, record numbers."""

from datetime import date

import numpy as np
import pandas as pd

from etl.canonical import SOURCE_ROW
from etl.extract.sdtm import read_dataset
from etl.mapping import ReaderOptions
from etl.synth.xport import write_xport

RECORDS = 100_002  # pyreadstat sizes an XPORT read in steps of 100,000 records


def test_a_dataset_past_the_readers_growth_step_reads_whole_and_in_order(tmp_path):
    sequence = np.arange(1, RECORDS + 1, dtype="float64")
    sequence[1] = np.nan
    frame = pd.DataFrame({
        "USUBJID": [f"S-{n}" for n in range(RECORDS)],
        "EXSEQ": sequence,
        "EXDOSE": np.resize([7.4, 200.25, 0.0], RECORDS),
        "EXDOSU": np.resize(["GBq", "", "mCi"], RECORDS),
    })
    path = tmp_path / "ex.xpt"
    write_xport(frame, path, "EX", date(2026, 6, 1))

    read = read_dataset(path, ReaderOptions(missing=[""]))

    assert len(read) == RECORDS
    assert list(read.columns) == ["USUBJID", "EXSEQ", "EXDOSE", "EXDOSU", SOURCE_ROW]
    assert read.iloc[:3].to_dict("list") == {
        "USUBJID": ["S-0", "S-1", "S-2"], "EXSEQ": ["1", None, "3"],
        "EXDOSE": ["7.4", "200.25", "0"], "EXDOSU": ["GBq", None, "mCi"],
        SOURCE_ROW: [1, 2, 3]}
    # the last record, beyond the second step of 100,000: 100,002 = 3 * 33,334
    assert read.iloc[-1].to_dict() == {"USUBJID": "S-100001", "EXSEQ": "100002",
                                       "EXDOSE": "0", "EXDOSU": "mCi",
                                       SOURCE_ROW: RECORDS}
