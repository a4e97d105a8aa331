"""Find deliveries in the inbox and tell which centre each belongs to.

A delivery is a folder or a file in the inbox whose name matches one centre mapping's
``delivery.pattern``; the pattern's ``export_date`` group dates it. Its identity is the
SHA-256 of its content, so a resent identical delivery is recognised whatever its name.
"""

import hashlib
import re
from dataclasses import dataclass
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


def discover(inbox: Path, mappings: dict[str, LoadedMapping]) -> tuple[list[Delivery], list[Path]]:
    """Deliveries in the inbox, per centre in export-date order, and entries no centre claims."""
    if not inbox.is_dir():
        return [], []
    deliveries, unclaimed = [], []
    for entry in sorted(inbox.iterdir()):
        if entry.name.startswith("."):
            continue
        loaded = match_site(entry, mappings)
        if loaded is None:
            unclaimed.append(entry)
        else:
            deliveries.append(describe(entry, loaded))
    deliveries.sort(key=lambda d: (d.site, d.export_date or date.min, d.name))
    return deliveries, unclaimed
