"""Which file of a delivery an extract reads: the mapping's name or glob, ignoring case."""

from datetime import date

import pytest

from etl.errors import DeliveryRejected
from etl.extract import resolve_file
from etl.inbox import Delivery


def delivery(tmp_path, *names: str) -> Delivery:
    folder = tmp_path / "MUN_20240601"
    folder.mkdir()
    return Delivery(site="MUN", path=folder, export_date=date(2024, 6, 1), content_sha256="",
                    file_sha256={name: "" for name in names})


@pytest.mark.parametrize(("pattern", "expected"), [
    ("dm.xpt", "DM.XPT"), ("suppdm.xpt", "SuppDM.xpt"), ("DM.XPT", "DM.XPT"),
    ("Patienten*.CSV", "patienten_2024.csv")])
def test_the_mapping_s_name_matches_whatever_the_case(tmp_path, pattern, expected):
    sent = delivery(tmp_path, "DM.XPT", "SuppDM.xpt", "patienten_2024.csv")
    assert resolve_file(sent, pattern) == expected


def test_two_files_differing_only_in_case_are_refused_by_name(tmp_path):
    sent = delivery(tmp_path, "dm.xpt", "DM.XPT")
    with pytest.raises(DeliveryRejected, match=r"several files match 'dm\.xpt': DM\.XPT, "
                                                r"dm\.xpt"):
        resolve_file(sent, "dm.xpt")


def test_a_missing_file_is_named_with_what_was_sent(tmp_path):
    sent = delivery(tmp_path, "DM.XPT")
    with pytest.raises(DeliveryRejected, match=r"no file matching 'ex\.xpt' \(found: DM\.XPT\)"):
        resolve_file(sent, "ex.xpt")
