"""SAS transport files (XPORT version 5, SAS TS-140), read with NumPy.

An XPORT v5 file is a run of 80-byte records: a library header, then for each member
(dataset) a member header, one 140-byte NAMESTR per variable, and the observations as
fixed-width records (character fields blank-padded, numbers as IBM System/370 doubles),
the last 80-byte record padded with blanks. So the observations are one structured
array: each variable is a strided view of the file, numbers are converted to IEEE
doubles in bulk, and nothing is handed to Python cell by cell (pyreadstat, which does,
took 19 s of TRL's 50 s extract at 25,000 patients to read its ten datasets).

The contract (``site-exports/README.md``) is one dataset per file, version 5. A file
with several members, a version 8 file, or bytes that are not XPORT are refused with
what was found, rather than half read.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

RECORD = 80
HEADER = b"HEADER RECORD*******"
LIBRARY = HEADER + b"LIBRARY HEADER RECORD!!!!!!!"
LIBRARY_V8 = HEADER + b"LIBV8   HEADER RECORD!!!!!!!"
MEMBER = HEADER + b"MEMBER  HEADER RECORD!!!!!!!"
NAMESTR = HEADER + b"NAMESTR HEADER RECORD!!!!!!!"
OBSERVATIONS = HEADER + b"OBS     HEADER RECORD!!!!!!!"
NUMERIC, CHARACTER = 1, 2
NAMESTR_LAYOUT = np.dtype([
    ("ntype", ">i2"), ("nhfun", ">i2"), ("nlng", ">i2"), ("nvar0", ">i2"),
    ("nname", "S8"), ("nlabel", "S40"), ("nform", "S8"), ("nfl", ">i2"), ("nfd", ">i2"),
    ("nfj", ">i2"), ("nfill", "V2"), ("niform", "S8"), ("nifl", ">i2"), ("nifd", ">i2"),
    ("npos", ">i4"), ("rest", "V52")])
# SAS missing values: "." or ".A"-".Z" or "._" in the first byte, zeros after it
MISSING_FIRST_BYTES = np.array([0x2E, 0x5F, *range(0x41, 0x5B)], dtype=np.uint8)


class NotTransport(ValueError):
    """The bytes are not a one-member XPORT v5 file; the message says what was found."""


@dataclass(frozen=True)
class Variable:
    """One variable of the dataset: numbers as float64 (NaN when missing), characters as
    fixed-width bytes (``S<width>``, as stored: blank-padded, not decoded)."""

    name: str
    values: np.ndarray

    @property
    def is_numeric(self) -> bool:
        return self.values.dtype == np.float64


def unpadded(stored: bytes) -> bytes:
    """A character cell without its padding: SAS pads with blanks (some writers with
    NULs) to the variable's width."""
    return stored.rstrip(b" \0")


def read_transport(path: Path) -> tuple[str, list[Variable]]:
    """The name of the file's one dataset and its variables, in file order."""
    raw = path.read_bytes()
    data = np.frombuffer(raw, dtype=np.uint8)
    if len(data) < 8 * RECORD or len(data) % RECORD:
        raise NotTransport(f"{len(data)} bytes, not a run of 80-byte records")
    first = data[:RECORD].tobytes()
    if first.startswith(LIBRARY_V8):
        raise NotTransport("an XPORT version 8 file; the centres send version 5")
    if not first.startswith(LIBRARY):
        raise NotTransport("the first record is not an XPORT library header")
    member = _record_index(data, MEMBER, start=3)
    header = data[member * RECORD:(member + 1) * RECORD].tobytes()
    namestr_length = _header_number(header[74:78], "variable description length")
    if namestr_length not in (136, 140):  # 140, or 136 from VAX/VMS
        raise NotTransport(f"variable descriptions of {namestr_length} bytes (140 expected)")
    dataset = data[(member + 2) * RECORD:(member + 3) * RECORD].tobytes()[8:16]
    names_at = _record_index(data, NAMESTR, start=member)
    count = _header_number(data[names_at * RECORD + 54:names_at * RECORD + 58].tobytes(),
                           "number of variables")
    names_start = (names_at + 1) * RECORD
    names = np.zeros(count, dtype=NAMESTR_LAYOUT)
    for number in range(count):  # a handful of variables: one record each
        at = names_start + number * namestr_length
        described = data[at:at + namestr_length].tobytes().ljust(NAMESTR_LAYOUT.itemsize,
                                                                 b"\0")
        names[number] = np.frombuffer(described, dtype=NAMESTR_LAYOUT)[0]
    observations_at = names_start + -(-count * namestr_length // RECORD) * RECORD
    if data[observations_at:observations_at + RECORD].tobytes()[:48] != OBSERVATIONS:
        raise NotTransport("no observation header after the variable descriptions")
    observations = data[observations_at + RECORD:]
    if _holds_another_member(raw, observations_at + RECORD):
        raise NotTransport("the file holds more than one dataset; one per file is expected")
    width = int(max((int(n["npos"]) + int(n["nlng"]) for n in names), default=0))
    records = _records(observations, width)
    return dataset.decode("ascii", "replace").strip(), [
        _variable(name, records) for name in names]


def ieee_floats(stored: np.ndarray) -> np.ndarray:
    """IBM System/370 doubles (big-endian bytes, 2 to 8 per value: SAS may shorten them)
    as IEEE doubles, SAS's missing values as NaN. A fraction of at most 56 bits times a
    power of 16: exact for every value SAS wrote from a double."""
    length = stored.shape[1]
    padded = np.zeros((len(stored), 8), dtype=np.uint8)
    padded[:, :length] = stored
    words = padded.view(">u8").ravel().astype(np.uint64)
    exponent = ((words >> np.uint64(56)) & np.uint64(0x7F)).astype(np.int64) - 64
    fraction = (words & np.uint64(0x00FF_FFFF_FFFF_FFFF)).astype(np.float64)
    values = np.ldexp(fraction, 4 * exponent - 56)
    values[(words >> np.uint64(63)).astype(bool)] *= -1
    missing = np.isin(padded[:, 0], MISSING_FIRST_BYTES) & ~padded[:, 1:].any(axis=1)
    values[missing] = np.nan
    return values


def _header_number(field: bytes, what: str) -> int:
    if not field.isdigit():
        raise NotTransport(f"the {what} in its header record is {field!r}, not a number")
    return int(field)


def _record_index(data: np.ndarray, prefix: bytes, start: int) -> int:
    """The first 80-byte record from ``start`` on that begins with ``prefix``."""
    for index in range(start, min(start + 16, len(data) // RECORD)):
        if data[index * RECORD:index * RECORD + len(prefix)].tobytes() == prefix:
            return index
    raise NotTransport(f"no {prefix[20:27].decode().strip().lower()} header record")


def _holds_another_member(raw: bytes, start: int) -> bool:
    """Whether a member header follows the observations: on an 80-byte boundary (the
    same text inside a record is data)."""
    found = raw.find(MEMBER, start)
    while found >= 0 and (found - start) % RECORD:
        found = raw.find(MEMBER, found + 1)
    return found >= 0


def _records(observations: np.ndarray, width: int) -> np.ndarray:
    """The observations as a (records, width) byte matrix, without the blank padding
    of the last 80-byte record: a trailing record entirely inside that padding (it
    starts in the last 80 bytes) and all blank is padding, not a record."""
    if width == 0:
        return np.zeros((0, 0), dtype=np.uint8)
    count = len(observations) // width
    while count and (count - 1) * width > len(observations) - RECORD and not (
            observations[(count - 1) * width:count * width] != ord(" ")).any():
        count -= 1
    return observations[:count * width].reshape(count, width)


def _variable(name: np.void, records: np.ndarray) -> Variable:
    start, length = int(name["npos"]), int(name["nlng"])
    cells = records[:, start:start + length]
    label = name["nname"].decode("ascii", "replace").strip()
    if length < 1 or start < 0:
        raise NotTransport(f"variable {label} at byte {start} of a record, {length} bytes long")
    if int(name["ntype"]) == NUMERIC:
        if not 2 <= length <= 8:
            raise NotTransport(f"numeric variable {label} stored in {length} bytes (2 to 8)")
        return Variable(label, ieee_floats(cells))
    return Variable(label, np.ascontiguousarray(cells).view(f"S{length}").ravel())
