"""Format-family readers: each turns a delivery's files into frames of text cells.

A reader knows a file format (delimited text, Excel, REDCap, SDTM XPORT), never a
centre: the centre's options come from its site mapping. Every frame it returns has
one column per source column (cells stripped, missing-value tokens as NA) and a
``source_row`` column that points back into the file (line, worksheet row or record).
"""

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from etl.errors import DeliveryRejected
from etl.extract import delimited, excel, redcap, sdtm
from etl.inbox import Delivery
from etl.mapping import SiteMapping


@dataclass
class Source:
    """One file (or worksheet) of a delivery, read."""

    frame: pd.DataFrame
    label: str  # file name, with [sheet] for a worksheet
    sha256: str
    choices: dict[str, dict[str, str]] = field(default_factory=dict)  # REDCap dictionary


def resolve_file(delivery: Delivery, pattern: str | None) -> str:
    """The delivery file a mapping names: a name or glob inside the delivery folder, or,
    for a single-file delivery, the delivery itself (``file`` omitted or matching)."""
    names = sorted(delivery.file_sha256)
    if delivery.path.is_file():
        if pattern is None or fnmatch.fnmatch(names[0], pattern):
            return names[0]
        raise DeliveryRejected(f"{delivery.name}: the mapping expects {pattern!r}, but the "
                               "delivery is this single file")
    if pattern is None:
        raise DeliveryRejected(f"{delivery.name}: a folder delivery, but the mapping names "
                               "no file for this extract")
    found = [name for name in names if fnmatch.fnmatch(name, pattern)]
    if not found:
        raise DeliveryRejected(f"{delivery.name}: no file matching {pattern!r} "
                               f"(found: {', '.join(names) or 'nothing'})")
    if len(found) > 1:
        raise DeliveryRejected(f"{delivery.name}: several files match {pattern!r}: "
                               f"{', '.join(found)}")
    return found[0]


def file_path(delivery: Delivery, name: str) -> Path:
    return delivery.path if delivery.path.is_file() else delivery.path / name


def read_source(mapping: SiteMapping, delivery: Delivery, pattern: str | None,
                sheet: str | None = None) -> Source:
    """Read one file (or sheet) of the delivery with the reader of the centre's family."""
    name = resolve_file(delivery, pattern)
    path = file_path(delivery, name)
    label = f"{name}[{sheet}]" if sheet else name
    choices: dict[str, dict[str, str]] = {}
    if mapping.format == "excel":
        frame = excel.read_sheet(path, mapping.reader, sheet)
    elif mapping.format == "redcap" and pattern != mapping.reader.dictionary:
        dictionary = resolve_file(delivery, mapping.reader.dictionary)
        frame, choices = redcap.read_records(path, file_path(delivery, dictionary),
                                             mapping.reader)
    elif mapping.format == "sdtm":
        frame = sdtm.read_dataset(path, mapping.reader)
    else:
        frame = delimited.read_file(path, mapping.reader)
    return Source(frame=frame, label=label, sha256=delivery.file_sha256[name], choices=choices)
