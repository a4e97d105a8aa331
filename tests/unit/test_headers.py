"""A header's names are spelled as the mapping spells them when they differ only in case
and in how their blanks are written; what cannot be told apart is refused by name."""

import pytest

from etl.errors import DeliveryRejected
from etl.extract.headers import as_named


def test_a_name_differing_only_in_case_takes_the_mappings_spelling():
    header = ["PatNr", "DATUM", "bepaling", "Opmerking"]
    assert as_named(header, {"patnr", "datum", "bepaling"}, "lab.csv") == [
        "patnr", "datum", "bepaling", "Opmerking"]


def test_blanks_inside_a_name_are_matched_however_they_are_written():
    """A workbook's header cell broken over two lines, or with two spaces, is the name."""
    header = ["Pat-ID", "Aktivität\n[MBq]", "Datum  der\tTherapie", "Dosis [GBq]"]
    assert as_named(header, {"pat-id", "Aktivität [MBq]", "Datum der Therapie"},
                    "Export.xlsx[Therapie]") == [
        "pat-id", "Aktivität [MBq]", "Datum der Therapie", "Dosis [GBq]"]


def test_names_the_mapping_does_not_give_are_left_as_they_are():
    assert as_named(["Naam", "naam", ""], {"patnr"}, "lab.csv") == ["Naam", "naam", ""]


def test_a_column_the_mapping_reads_given_twice_is_refused_with_its_places():
    with pytest.raises(DeliveryRejected, match=r"^lab\.csv: the mapping's column 'datum' "
                                               r"matches 'datum' \(column 2\), 'datum' "
                                               r"\(column 4\) ignoring case"):
        as_named(["patnr", "datum", "waarde", "datum"], {"patnr", "datum"}, "lab.csv")


def test_a_column_given_again_in_other_case_is_refused_too():
    with pytest.raises(DeliveryRejected, match=r"'datum' \(column 1\), 'Datum' \(column 2\)"):
        as_named(["datum", "Datum"], {"datum"}, "lab.csv")


def test_two_names_of_the_mapping_differing_only_in_case_cannot_share_one_column():
    with pytest.raises(DeliveryRejected, match=r"column 'datum' matches 'DATUM' \(column 1\)"):
        as_named(["DATUM"], {"datum", "Datum"}, "lab.csv")
