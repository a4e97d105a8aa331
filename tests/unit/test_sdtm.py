"""The SAS transport reader: every record, numbers as text, blanks missing, record numbers."""

from datetime import date

import numpy as np
import pandas as pd
import pytest

from etl.canonical import SOURCE_ROW
from etl.errors import DeliveryRejected
from etl.extract.sdtm import read_dataset
from etl.mapping import ReaderOptions
from etl.synth.xport import write_xport

RECORDS = 100_002


def test_a_large_dataset_reads_whole_and_in_order(tmp_path):
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
    # the last record: 100,002 = 3 * 33,334
    assert read.iloc[-1].to_dict() == {"USUBJID": "S-100001", "EXSEQ": "100002",
                                       "EXDOSE": "0", "EXDOSU": "mCi",
                                       SOURCE_ROW: RECORDS}


def test_text_not_in_the_mappings_encoding_names_the_file_record_and_variable(tmp_path):
    path = tmp_path / "dm.xpt"
    write_xport(pd.DataFrame({"USUBJID": ["S-1", "S-2", "S-3"],
                              "SITEID": ["Leiden", "Tilburg é", "Leiden"]}),
                path, "DM", date(2026, 6, 1))

    with pytest.raises(DeliveryRejected, match=r"dm\.xpt: record 2, variable SITEID: not "
                       r"ascii text \(ordinal not in range\(128\) at byte 9: b'Tilburg "):
        read_dataset(path, ReaderOptions(encoding="ascii"))


def test_a_file_that_is_not_sas_transport_is_rejected_naming_it(tmp_path):
    path = tmp_path / "lb.xpt"
    path.write_text("LBTESTCD,LBORRES\nHGB,7.1\n")

    with pytest.raises(DeliveryRejected, match=r"lb\.xpt: not a readable SAS transport "
                       r"\(XPORT\) file: 25 bytes, not a run of 80-byte records"):
        read_dataset(path, ReaderOptions())
