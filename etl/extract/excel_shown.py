"""Cells of an .xlsx worksheet that python-calamine reads otherwise than Excel shows them.

- An error (``#N/A``, ``#DIV/0!``: a formula that failed) is read as an empty string
  (python-calamine issue 105), so a death date computed by a failed formula would load
  as no death date. It is put back as its error text, for which the mapper quarantines
  its row as for any other text that is no value of its field.
- A number formatted as a percentage (``0%``: typed ``15%``, Excel stores 0.15) is read
  as the fraction, so a Ki-67 of 15 % would load as 0.15 %. It is put back as shown,
  ``15%``.

The worksheet's XML says which cells these are. Looking costs about a second per 600 MB
of it (the 25,000-patient bench workbook), for faults that are rare: the XML is scanned
for the error type and the styles that format percentages first, and parsed only when a
worksheet holds one.
"""

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from etl.canonical import written_number

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOCUMENT_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ERROR_TYPE = b't="e"'
PERCENT_FORMATS = {9, 10}  # Excel's built-in 0% and 0.00%
CHUNK = 1 << 22
CELL_REFERENCE = re.compile(r"([A-Z]+)(\d+)")
LITERALS = re.compile(r'"[^"]*"|\\.')  # quoted text and escaped characters of a format


def shown_cells(path: Path, sheet: str, decimal_mark: str) -> dict[tuple[int, int], str]:
    """(row, column) -> the text Excel shows, both counted from 1, for the worksheet
    ``sheet``'s errors and percentages; nothing for a workbook that is not an .xlsx
    package (.xls, .xlsb)."""
    try:
        with zipfile.ZipFile(path) as package:
            part = _worksheet_part(package, sheet)
            if part is None:
                return {}
            percent = _percent_styles(package)
            markers = [ERROR_TYPE, *(f' s="{style}"'.encode() for style in sorted(percent))]
            if not _holds_any(package, part, markers):
                return {}
            with package.open(part) as xml:
                return _shown(xml, {str(style) for style in percent}, decimal_mark)
    except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
        return {}  # calamine read the workbook; what it cannot tell here it never could


def _worksheet_part(package: zipfile.ZipFile, sheet: str) -> str | None:
    """The package part of the worksheet named ``sheet`` (workbook.xml and its rels)."""
    workbook = ElementTree.fromstring(package.read("xl/workbook.xml"))
    ids = [s.get(DOCUMENT_ID) for s in workbook.iter(f"{MAIN}sheet") if s.get("name") == sheet]
    if not ids:
        return None
    relations = ElementTree.fromstring(package.read("xl/_rels/workbook.xml.rels"))
    for relation in relations.iter(f"{RELATIONSHIPS}Relationship"):
        if relation.get("Id") == ids[0]:
            target = relation.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else str(
                PurePosixPath("xl") / target)
    return None


def _percent_styles(package: zipfile.ZipFile) -> set[int]:
    """Indices of the cell formats (a cell's ``s``) whose number format shows a
    percentage: a ``%`` outside quotes and not escaped (``0.0"%"`` only writes the sign)."""
    if "xl/styles.xml" not in package.namelist():
        return set()
    styles = ElementTree.fromstring(package.read("xl/styles.xml"))
    percent = set(PERCENT_FORMATS) | {
        int(fmt.get("numFmtId")) for fmt in styles.iter(f"{MAIN}numFmt")
        if "%" in LITERALS.sub("", fmt.get("formatCode", ""))}
    formats = styles.find(f"{MAIN}cellXfs")
    return set() if formats is None else {
        index for index, xf in enumerate(formats.iter(f"{MAIN}xf"))
        if int(xf.get("numFmtId", "0")) in percent}


def _holds_any(package: zipfile.ZipFile, part: str, markers: list[bytes]) -> bool:
    longest = max(map(len, markers))
    with package.open(part) as xml:
        tail = b""
        while chunk := xml.read(CHUNK):
            seam = tail + chunk[:longest]
            if any(marker in chunk or marker in seam for marker in markers):
                return True
            tail = chunk[-longest:]
    return False


def _shown(xml, percent_styles: set[str], decimal_mark: str) -> dict[tuple[int, int], str]:
    """Every error cell and number formatted as a percentage, placed by its reference
    or, where a writer left that out, by its order (a row or cell without ``r`` follows
    the one before it)."""
    found = {}
    row = column = 0
    for event, element in ElementTree.iterparse(xml, events=("start", "end")):
        if event == "start" and element.tag == f"{MAIN}row":
            row = int(element.get("r") or row + 1)
            column = 0
        elif event == "end" and element.tag == f"{MAIN}c":
            reference = CELL_REFERENCE.fullmatch(element.get("r") or "")
            column = _column_number(reference.group(1)) if reference else column + 1
            value = element.findtext(f"{MAIN}v")
            if element.get("t") == "e":
                found[(row, column)] = value or "#ERROR"
            elif (element.get("s") in percent_styles and element.get("t", "n") == "n"
                  and value):
                percent = round(float(value) * 100, 9)  # 0.155 * 100 is 15.500000000000002
                found[(row, column)] = written_number(percent, decimal_mark) + "%"
            element.clear()
    return found


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
