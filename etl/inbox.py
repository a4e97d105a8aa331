"""Find deliveries in the inbox and tell which centre each belongs to.

A delivery is a folder or a file in the inbox whose name matches one centre mapping's
``delivery.pattern``; the pattern's ``export_date`` group dates it. Its identity is the
SHA-256 of its content, so a resent identical delivery is recognised whatever its name.

A delivery copied into the inbox while a night runs would be read half written: a file
cut at a line end reads as a smaller snapshot, whose missing records are withdrawn until
the whole one loads. Two ways keep that from happening: copy a delivery in under a name
beginning with a dot and rename it when it is complete (such names are never read), or
set ``PRRT_SETTLE_SECONDS``: an entry changed more recently than that is left for the
next run.
"""

import hashlib
import re
import time
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from etl.errors import ConfigurationError
from etl.mapping import LoadedMapping


@dataclass(frozen=True)
class Delivery:
    site: str
    path: Path
    export_date: date | None
    content_sha256: str
    file_sha256: dict[str, str]
    misdated: str | None = None  # why its name gives no export date: it is rejected

    @property
    def name(self) -> str:
        return self.path.name


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def describe(path: Path, loaded: LoadedMapping) -> Delivery:
    """Hash a delivery folder (or single file) and date it from its name."""
    naming = loaded.mapping.delivery
    match = re.fullmatch(naming.pattern, path.name)
    if match is None:
        raise ConfigurationError(
            f"{path.name}: does not match the {loaded.mapping.site} delivery pattern "
            f"{naming.pattern!r} in {loaded.path}"
        )
    try:
        export_date, misdated = datetime.strptime(match["export_date"],
                                                  naming.export_date_format).date(), None
    except ValueError:
        # one misnamed delivery is that delivery's fault: the night goes on without it
        export_date, misdated = None, (
            f"the export date in its name, {match['export_date']!r}, is no date in the "
            f"format {naming.export_date_format} ({loaded.path}): resend it named with "
            "the date it was exported")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    base = path if path.is_dir() else path.parent
    hashes = {str(p.relative_to(base)): file_sha256(p) for p in files}
    content = hashlib.sha256(
        "\n".join(f"{name}\t{digest}" for name, digest in sorted(hashes.items())).encode()
    ).hexdigest()
    return Delivery(site=loaded.mapping.site, path=path, export_date=export_date,
                    content_sha256=content, file_sha256=hashes, misdated=misdated)


def match_site(path: Path, mappings: dict[str, LoadedMapping]) -> LoadedMapping | None:
    """The one mapping whose delivery pattern matches this inbox entry's name."""
    matches = [m for m in mappings.values() if re.fullmatch(m.mapping.delivery.pattern, path.name)]
    if len(matches) > 1:
        names = ", ".join(str(m.path) for m in matches)
        raise ConfigurationError(f"{path.name}: matches the delivery pattern of several "
                                 f"centres ({names}); make the patterns distinct")
    return matches[0] if matches else None


@dataclass
class InboxEntries:
    """What the inbox holds, as a night sees it."""

    deliveries: list[Delivery] = field(default_factory=list)  # per centre, by export date
    unclaimed: list[Path] = field(default_factory=list)  # no centre mapping claims them
    arriving: dict[Path, float] = field(default_factory=dict)  # -> seconds since changed


def discover(inbox: Path, mappings: dict[str, LoadedMapping], settle_seconds: int = 0
             ) -> InboxEntries:
    """The inbox's deliveries, its entries no centre claims, and those changed less than
    ``settle_seconds`` ago (not hashed: they may still be arriving)."""
    entries = InboxEntries()
    if not inbox.is_dir():
        return entries
    now = time.time()
    for entry in sorted(inbox.iterdir()):
        if entry.name.startswith("."):
            continue
        loaded = match_site(entry, mappings)
        if loaded is None:
            entries.unclaimed.append(entry)
        elif settle_seconds and (age := now - last_changed(entry)) < settle_seconds:
            entries.arriving[entry] = max(age, 0.0)
        else:
            entries.deliveries.append(describe(entry, loaded))
    entries.deliveries.sort(key=lambda d: (d.site, d.export_date or date.min, d.name))
    return entries


def last_changed(path: Path) -> float:
    """When an inbox entry last changed: a file's modification time, or the newest of a
    folder's, its own included (a file added to it or removed from it)."""
    paths = [path, *path.rglob("*")] if path.is_dir() else [path]
    return max(p.lstat().st_mtime for p in paths)
