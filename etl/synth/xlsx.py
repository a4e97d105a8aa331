"""A small streaming .xlsx writer for synthetic exports.

A registry-sized BBK workbook has millions of cells; a general library (xlsxwriter)
spends most of the generation time there, one Python call chain per cell. The export
needs only text, numbers and date cells in a single date format, so each row is rendered
to sheet XML directly and streamed into the zip, each distinct value of a sheet turned
into XML once. Strings are inline (as xlsxwriter's
constant-memory mode writes them); numbers are written in their shortest exact form,
so a reader gets back the very double that was written.
"""

import numbers
import zipfile
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

from etl.synth.render import missing

EXCEL_EPOCH = datetime(1899, 12, 31)  # serial 1 is 1900-01-01
FAKE_LEAP_DAY = 60  # Excel counts a 29 February 1900, so later serials are one higher
DATE_STYLE = 1  # cellXfs index of the date format in styles.xml
ROWS_PER_WRITE = 5_000

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.styles+xml"/>{sheets}</Types>')
_SHEET_TYPE = ('<Override PartName="/xl/worksheets/sheet{n}.xml" ContentType="application/'
               'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets>{sheets}</sheets></workbook>')
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '{sheets}<Relationship Id="rIdStyles" Type="http://schemas.openxmlformats.org/'
    'officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>')
_SHEET_REL = ('<Relationship Id="rId{n}" Type="http://schemas.openxmlformats.org/'
              'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{n}.xml"/>')
_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="{date_format}"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
    '<borders count="1"><border/></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
    '</cellStyleXfs><cellXfs count="2">'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '</cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
    '</cellStyles></styleSheet>')
_SHEET_START = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<sheetData>')
_SHEET_END = '</sheetData></worksheet>'

Sheet = tuple[str, Sequence[str], Iterable[Sequence[object]]]  # name, header, rows


def write_workbook(path: Path, sheets: list[Sheet], date_format: str) -> None:
    """Write ``sheets`` (header row, then the rows; missing values leave the cell empty)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        for number, (_, header, rows) in enumerate(sheets, start=1):
            with package.open(f"xl/worksheets/sheet{number}.xml", "w",
                              force_zip64=True) as part:
                _write_sheet(part, header, rows)
        numbers = range(1, len(sheets) + 1)
        package.writestr("[Content_Types].xml", _CONTENT_TYPES.format(
            sheets="".join(_SHEET_TYPE.format(n=n) for n in numbers)))
        package.writestr("_rels/.rels", _ROOT_RELS)
        package.writestr("xl/workbook.xml", _WORKBOOK.format(sheets="".join(
            f'<sheet name="{escape(name, {chr(34): "&quot;"})}" sheetId="{n}" r:id="rId{n}"/>'
            for n, (name, _, _) in zip(numbers, sheets, strict=True))))
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS.format(
            sheets="".join(_SHEET_REL.format(n=n) for n in numbers)))
        package.writestr("xl/styles.xml", _STYLES.format(date_format=escape(date_format)))


def _write_sheet(part, header: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    part.write(_SHEET_START.encode())
    letters = [_column_letters(i) for i in range(len(header))]
    bodies: dict[tuple[type, object], str] = {}
    chunk = [_row(1, header, letters, bodies)]
    for number, row in enumerate(rows, start=2):
        chunk.append(_row(number, row, letters, bodies))
        if len(chunk) >= ROWS_PER_WRITE:
            part.write("".join(chunk).encode())
            chunk.clear()
    part.write(("".join(chunk) + _SHEET_END).encode())


def _row(number: int, values: Sequence[object], letters: list[str],
         bodies: dict[tuple[type, object], str]) -> str:
    cells = "".join(f'<c r="{letter}{number}"{body}'
                    for letter, value in zip(letters, values, strict=False)
                    if (body := _body(value, bodies)))
    return f'<row r="{number}">{cells}</row>'


def _body(value: object, bodies: dict[tuple[type, object], str]) -> str:
    """A cell's XML after its reference ("" for a missing value: no cell), rendered once
    per distinct value of each type in a sheet: a registry-sized sheet repeats the same
    dates, codes and numbers over millions of cells. Keyed by type too, so that ``1``,
    ``1.0`` and ``True`` keep their own cells."""
    key = (value.__class__, value)
    try:
        return bodies[key]
    except KeyError:
        pass
    except TypeError:  # unhashable: rendered each time
        return "" if missing(value) else _cell(value)
    if missing(value):
        return ""  # not kept: NaN is never equal to itself, so it would never be found
    body = bodies[key] = _cell(value)
    return body


def _cell(value: object) -> str:
    if isinstance(value, str):
        space = ' xml:space="preserve"' if value != value.strip() else ""
        return f' t="inlineStr"><is><t{space}>{escape(value)}</t></is></c>'
    if isinstance(value, bool):
        return f' t="b"><v>{int(value)}</v></c>'
    if isinstance(value, date):
        moment = value if isinstance(value, datetime) else datetime(value.year, value.month,
                                                                     value.day)
        serial = (moment.replace(tzinfo=None) - EXCEL_EPOCH).total_seconds() / 86_400
        serial += 1 if serial >= FAKE_LEAP_DAY else 0
        return f' s="{DATE_STYLE}"><v>{_number(serial)}</v></c>'
    if isinstance(value, Decimal):
        return f'><v>{format(value, "f")}</v></c>'
    if isinstance(value, numbers.Integral):
        return f'><v>{int(value)}</v></c>'
    return f'><v>{_number(value)}</v></c>'


def _number(value: object) -> str:
    """Whole numbers without a fraction, others in their shortest exact form."""
    number = float(value)
    return str(int(number)) if number.is_integer() else repr(number)


def _column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters
