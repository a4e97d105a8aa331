"""The synthetic writers' SAS transport (XPORT v5) files, checked byte by byte against
the format (SAS TS-140) and read back by an independent reader (pyreadstat)."""

from datetime import date

import numpy as np
import pandas as pd
import pyreadstat

from etl.synth.xport import ibm_floats, write_xport


def test_ibm_floats_of_known_values():
    # TS-140's examples: 1 = 1/16 * 16^1; -118.625 = -(0x76A / 16^3) * 16^2
    words = ibm_floats(np.array([1.0, -118.625, 0.0, np.nan, 0.5]))
    assert [words[i:i + 1].tobytes().hex() for i in range(len(words))] == [
        "4110000000000000", "c276a00000000000", "0000000000000000",
        "2e00000000000000",  # SAS missing "."
        "4080000000000000",  # 0.5 = 8/16 * 16^0
    ]


def test_observations_are_fixed_width_records_padded_to_80_bytes(tmp_path):
    frame = pd.DataFrame({"A": ["x", "yy", ""], "N": [1.0, np.nan, -118.625]})
    path = tmp_path / "qs.xpt"
    write_xport(frame, path, "QS", date(2026, 6, 1))
    data = path.read_bytes()
    assert len(data) % 80 == 0
    assert data[80:160].startswith(b"SAS     SAS     SASLIB  6.06    ")
    assert data[80:160].endswith(b"01JUN26:00:00:00")
    observations = data[data.index(b"OBS     HEADER RECORD") + 60:]
    rows = (b"x " + bytes.fromhex("4110000000000000")
            + b"yy" + bytes.fromhex("2e00000000000000")
            + b"  " + bytes.fromhex("c276a00000000000"))
    assert observations == rows + b" " * (80 - len(rows))


def test_files_read_back_as_written(tmp_path):
    frame = pd.DataFrame({"USUBJID": ["TRL-PRRT-01-101-0001", "TRL-PRRT-01-102-0002", None],
                          "EXSEQ": [1.0, 2.0, np.nan], "EXDOSE": [7.4, 200.25, 0.0],
                          "QVAL": ["", "<2", "Ki-67 ≥ 20"]})
    path = tmp_path / "ex.xpt"
    write_xport(frame, path, "EX", date(2026, 6, 1))
    read, meta = pyreadstat.read_xport(str(path), encoding="utf-8")
    assert meta.table_name == "EX"
    assert read["USUBJID"].tolist() == ["TRL-PRRT-01-101-0001", "TRL-PRRT-01-102-0002", ""]
    assert read["EXSEQ"].tolist()[:2] == [1.0, 2.0] and np.isnan(read["EXSEQ"][2])
    assert read["EXDOSE"].tolist() == [7.4, 200.25, 0.0]
    assert read["QVAL"].tolist() == ["", "<2", "Ki-67 ≥ 20"]
