"""Which file of a delivery an extract reads (the mapping's name or glob, ignoring case),
and which files no part of the mapping names."""

from datetime import date

import pytest

from etl.config import REPO_DIR
from etl.errors import DeliveryRejected
from etl.extract import resolve_file, unnamed_files
from etl.inbox import Delivery
from etl.mapping import load_mapping


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


@pytest.mark.parametrize(("site", "sent", "unnamed"), [
    # every domain TRL maps, its SUPPDM (supplemental) and TU/DS (joined), and two more
    ("trl", ["ae.xpt", "CM.XPT", "dm.xpt", "ds.xpt", "ex.xpt", "lb.xpt", "qs.xpt", "rs.xpt",
             "suppdm.xpt", "tr.xpt", "tu.xpt", "vs.xpt"], ["CM.XPT", "vs.xpt"]),
    # the data dictionary is named by the reader, the export by a glob
    ("iow", ["IOW_data_dictionary.csv", "IOW_redcap_20240601.csv", "notes.txt"], ["notes.txt"]),
    ("rot", ["behandelingen.csv", "beeldvorming.csv", "followup.csv", "lab.csv",
             "patienten.csv", "qol.csv", "toxiciteit.csv"], []),
])
def test_files_no_part_of_the_mapping_names_are_listed(tmp_path, site, sent, unnamed):
    mapping = load_mapping(REPO_DIR / "etl" / "sites" / f"{site}.yml").mapping
    assert unnamed_files(mapping, delivery(tmp_path, *sent)) == unnamed
