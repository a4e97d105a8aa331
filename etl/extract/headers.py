"""A file's header, its names spelled as the centre's site mapping spells them.

Export systems change the case of a header between versions (``PatNr`` for ``patnr``
after an upgrade; an SDTM sponsor writing ``usubjid``, which SAS itself does not tell
from ``USUBJID``), and a hand-kept workbook gains a blank after a name or breaks a long
one over two lines in its cell (``Aktivität`` / ``[MBq]``); the column means the same.
A name the mapping gives is therefore matched ignoring case and how the blanks inside it
are written (any run of spaces, tabs and line breaks is one space; readers strip those
around names), and the column takes the mapping's spelling, so everything after the
reader sees one name. What cannot be told apart is refused by name rather than
guessed: a name the mapping gives that matches several columns (``datum`` twice, or
``datum`` and ``Datum``). Columns the mapping does not name keep their names and are
never read.
"""

from collections.abc import Collection
from pathlib import Path

from etl.errors import DeliveryRejected


def as_named(header: list[str], named: Collection[str], source: Path | str) -> list[str]:
    """``header`` (stripped names, in file order) with each name the mapping gives
    (``named``) in the mapping's spelling; ``source`` names the file in a refusal."""
    spelled = list(header)
    folded = [_folded(name) for name in header]
    for name in sorted(named):
        places = [place for place, found in enumerate(folded) if found == _folded(name)]
        if not places:
            continue
        if len(places) > 1 or spelled[places[0]] not in (header[places[0]], name):
            raise DeliveryRejected(
                f"{source}: the mapping's column {name!r} matches "
                + ", ".join(f"{header[place]!r} (column {place + 1})" for place in places)
                + " ignoring case and blanks; which one to read?")
        spelled[places[0]] = name
    return spelled


def _folded(name: str) -> str:
    return " ".join(name.split()).casefold()
