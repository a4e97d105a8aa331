"""The SAS transport (XPORT v5) reader at the level of the format: IBM numbers, the
padding of the last record, and files that are not one version-5 dataset. pyreadstat,
which the loader used before, is the independent reference for the sample delivery."""

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from etl.extract.xport import NotTransport, ieee_floats, read_transport
from etl.synth.xport import ibm_floats, write_xport

SAMPLES = Path(__file__).parents[1] / "fixtures" / "TRL_20240601"


def _stored(*words: str) -> np.ndarray:
    return np.array([list(bytes.fromhex(word)) for word in words], dtype=np.uint8)


def test_ibm_numbers_of_known_values_and_sas_missing_values():
    # TS-140: 1 = 1/16 * 16^1; -118.625 = -(0x76A / 16^3) * 16^2; 0.5 = 8/16 * 16^0
    values = ieee_floats(_stored("4110000000000000", "c276a00000000000", "4080000000000000",
                                 "0000000000000000", "2e00000000000000", "4100000000000000",
                                 "5f00000000000000"))

    assert values[:4].tolist() == [1.0, -118.625, 0.5, 0.0]
    assert np.isnan(values[4:]).all()  # ".", ".A" and "._"


def test_shortened_numbers_are_padded_with_zeros():
    # SAS may store a number in 3 to 7 bytes, dropping the low bytes of the fraction
    assert ieee_floats(_stored("41100000", "c276a000")).tolist() == [1.0, -118.625]


def test_every_double_comes_back_exactly_from_its_ibm_form():
    rng = np.random.default_rng(7)
    doubles = np.concatenate([rng.normal(0, 1e6, 5_000), rng.uniform(-1, 1, 5_000) * 1e-70,
                              [7.4, 200.25, -0.1, 1e75, 2.0 ** -200]])
    words = ibm_floats(doubles)

    back = ieee_floats(words.view(np.uint8).reshape(-1, 8))

    assert np.array_equal(back, doubles)


def test_the_sample_delivery_reads_as_pyreadstat_reads_it():
    for path in sorted(SAMPLES.glob("*.xpt")):
        name, variables = read_transport(path)
        expected, meta = pyreadstat.read_xport(str(path), output_format="dict")
        assert name == meta.table_name
        assert [v.name for v in variables] == list(expected)
        for variable in variables:
            reference = expected[variable.name]
            if variable.is_numeric:
                assert np.array_equal(variable.values, np.array(reference, dtype=float),
                                      equal_nan=True), (path.name, variable.name)
            else:
                assert [cell.decode().rstrip() for cell in variable.values.tolist()] == [
                    cell.rstrip() for cell in reference], (path.name, variable.name)


def _write(tmp_path: Path, frame: pd.DataFrame, name: str = "xx.xpt") -> Path:
    path = tmp_path / name
    write_xport(frame, path, "XX", date(2026, 6, 1))
    return path


def test_blank_records_are_records_unless_inside_the_last_records_padding(tmp_path):
    # width 40: three records (120 bytes) and 40 bytes of padding; the padding would be a
    # fourth blank record, the two blank records before it are data (pyreadstat: 1 record)
    path = _write(tmp_path, pd.DataFrame({"A": ["a" * 40, "", ""]}))

    _, (variable,) = read_transport(path)

    assert variable.values.tolist() == [b"a" * 40, b" " * 40, b" " * 40]


def test_records_filling_the_last_80_bytes_have_no_padding_to_drop(tmp_path):
    path = _write(tmp_path, pd.DataFrame({"A": ["a" * 80, ""]}))

    _, (variable,) = read_transport(path)

    assert len(variable.values) == 2


def test_a_file_with_two_datasets_is_refused(tmp_path):
    one = _write(tmp_path, pd.DataFrame({"A": ["x"], "N": [1.0]}), "one.xpt").read_bytes()
    two = _write(tmp_path, pd.DataFrame({"B": ["y"]}), "two.xpt").read_bytes()
    path = tmp_path / "both.xpt"
    path.write_bytes(one + two[3 * 80:])  # the second file's member, after the first's

    with pytest.raises(NotTransport, match="more than one dataset"):
        read_transport(path)


def test_a_version_8_file_and_other_bytes_are_refused(tmp_path):
    version_8 = tmp_path / "v8.xpt"
    version_8.write_bytes(b"HEADER RECORD*******LIBV8   HEADER RECORD!!!!!!!".ljust(640, b"0"))
    text = tmp_path / "text.xpt"
    text.write_bytes(b"USUBJID,EXSEQ\n".ljust(640, b" "))
    cut = tmp_path / "cut.xpt"
    cut.write_bytes(_write(tmp_path, pd.DataFrame({"A": ["x"]})).read_bytes()[:-30])

    with pytest.raises(NotTransport, match="version 8"):
        read_transport(version_8)
    with pytest.raises(NotTransport, match="not an XPORT library header"):
        read_transport(text)
    with pytest.raises(NotTransport, match="not a run of 80-byte records"):
        read_transport(cut)


def test_header_fields_that_are_not_numbers_are_named(tmp_path):
    data = bytearray(_write(tmp_path, pd.DataFrame({"A": ["x"]})).read_bytes())
    names_header = data.index(b"HEADER RECORD*******NAMESTR")
    data[names_header + 54:names_header + 58] = b"00x1"
    path = tmp_path / "broken.xpt"
    path.write_bytes(bytes(data))

    with pytest.raises(NotTransport, match="the number of variables in its header record is "
                                           "b'00x1', not a number"):
        read_transport(path)
