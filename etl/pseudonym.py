"""Keyed pseudonyms for centre patient identifiers (HMAC-SHA256).

The pseudonym of a patient depends on the centre code and the centre's own id, so the
same hospital number at two centres gives two patients, and the same patient gets the
same pseudonym every night as long as the key stays the same. The key never enters
the warehouse; without it the pseudonyms cannot be linked back to hospital numbers.
"""

import hashlib
import hmac
from functools import lru_cache

import pandas as pd


@lru_cache(maxsize=1 << 18)  # every file of a delivery names the same patients again
def pseudonym(site: str, patient_id: str, key: bytes) -> str:
    """The pseudonym of one patient: hex HMAC-SHA256 of ``SITE:id`` under ``key``."""
    message = f"{site}:{patient_id.strip()}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def pseudonymise(patient_ids: pd.Series, site: str, key: bytes) -> pd.Series:
    """Pseudonyms for a column of ids (each distinct id hashed once); empty stays empty."""
    distinct = patient_ids.dropna().unique()
    lookup = {patient_id: pseudonym(site, str(patient_id), key) for patient_id in distinct}
    return patient_ids.map(lookup)
