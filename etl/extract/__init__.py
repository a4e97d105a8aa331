"""Format-family readers: each turns a delivery's files into frames of text cells.

A reader knows a file format (delimited text, Excel, REDCap, SDTM XPORT), never a
centre: the centre's options come from its site mapping. Every frame it returns has
one column per source column (cells stripped, missing-value tokens as NA) and a
``source_row`` column that points back into the file.
"""

from pathlib import Path

import pandas as pd

from etl.extract import delimited
from etl.mapping import SiteMapping

READERS = {"delimited": delimited.read_file}


def read_source(mapping: SiteMapping, delivery_path: Path, file_name: str) -> pd.DataFrame:
    """Read one file of a delivery with the reader of the centre's format family."""
    return READERS[mapping.format](delivery_path / file_name, mapping.reader)
