"""Error cells of an .xlsx worksheet (``#N/A``, ``#DIV/0!``: a formula that failed).

python-calamine reads an error cell as an empty string (python-calamine issue 105), so a
death date computed by a failed formula would load as no death date. The worksheet's
XML says which cells hold errors; the reader puts their text back, and the mapper then
quarantines the row for it as for any other text that is no value of its field.

Looking costs about a second per 600 MB of worksheet XML (the 25,000-patient bench
workbook), for a fault that is rare: the XML is scanned for the error type first, and
parsed only when a worksheet has one.
"""

import re
import zipfile
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELATIONSHIPS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
DOCUMENT_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
ERROR_TYPE = b't="e"'
CHUNK = 1 << 22
CELL_REFERENCE = re.compile(r"([A-Z]+)(\d+)")


def error_cells(path: Path, sheet: str) -> dict[tuple[int, int], str]:
    """(row, column) -> error text of the worksheet ``sheet``, both counted from 1;
    nothing for a workbook that is not an .xlsx package (.xls, .xlsb)."""
    try:
        with zipfile.ZipFile(path) as package:
            part = _worksheet_part(package, sheet)
            if part is None or not _holds_errors(package, part):
                return {}
            with package.open(part) as xml:
                return _errors(xml)
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


def _holds_errors(package: zipfile.ZipFile, part: str) -> bool:
    with package.open(part) as xml:
        tail = b""
        while chunk := xml.read(CHUNK):
            if ERROR_TYPE in tail + chunk[:len(ERROR_TYPE)] or ERROR_TYPE in chunk:
                return True
            tail = chunk[-len(ERROR_TYPE):]
    return False


def _errors(xml) -> dict[tuple[int, int], str]:
    """Every cell of type ``e``, placed by its reference or, where a writer left that
    out, by its order (a row or cell without ``r`` follows the one before it)."""
    found = {}
    row = column = 0
    for event, element in ElementTree.iterparse(xml, events=("start", "end")):
        if event == "start" and element.tag == f"{MAIN}row":
            row = int(element.get("r") or row + 1)
            column = 0
        elif event == "end" and element.tag == f"{MAIN}c":
            reference = CELL_REFERENCE.fullmatch(element.get("r") or "")
            column = _column_number(reference.group(1)) if reference else column + 1
            if element.get("t") == "e":
                found[(row, column)] = element.findtext(f"{MAIN}v") or "#ERROR"
            element.clear()
    return found


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number
