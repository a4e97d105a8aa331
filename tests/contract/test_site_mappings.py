"""Contract tests run over every packaged site mapping: what each mapping promises
(delivery names, code lists, coverage of the canonical concepts) holds."""

import re

import pytest
from sqlalchemy import Boolean

from etl.config import Settings
from etl.mapping import PACKAGED_SITES_DIR, load_mapping, raw_table_names
from etl.reference import vocabulary
from models.base import metadata
from tests.conftest import SAMPLES

MAPPINGS = {path.stem.upper(): load_mapping(path).mapping
            for path in sorted(PACKAGED_SITES_DIR.glob("*.yml"))}
# Which concepts each centre sends (site-exports README, "Concepts every centre covers").
COVERAGE = {
    "ROT": set(raw_table_names()) - {"reported_response"},
    "BBK": set(raw_table_names()) - {"qlq_c30_assessment", "qlq_c30_item_response",
                                     "adverse_event"},
    "IOW": set(raw_table_names()) - {"reported_response"},
    "TRL": set(raw_table_names()),
}


def test_every_centre_of_the_readme_has_a_mapping():
    assert set(MAPPINGS) == set(COVERAGE)


@pytest.mark.parametrize("site", sorted(MAPPINGS))
def test_mapping_covers_the_concepts_the_centre_sends(site):
    assert {extract.table for extract in MAPPINGS[site].extracts} == COVERAGE[site]


@pytest.mark.parametrize("site", sorted(MAPPINGS))
def test_each_sample_delivery_is_claimed_by_its_own_centre_only(site):
    name = SAMPLES[site]
    claimed = [s for s, m in MAPPINGS.items() if re.fullmatch(m.delivery.pattern, name)]
    assert claimed == [site]


@pytest.mark.parametrize("site", sorted(MAPPINGS))
def test_every_code_list_is_used_and_maps_to_canonical_values(site):
    mapping = MAPPINGS[site]
    used = {spec.codes for extract in mapping.extracts for spec in extract.fields.values()
            if spec.codes}
    assert used == set(mapping.codes), "code lists defined but never used"
    for extract in mapping.extracts:
        table = metadata.tables[f"raw.{extract.table}"]
        for name, spec in extract.fields.items():
            if not spec.codes:
                continue
            values = set(mapping.codes[spec.codes].values())
            column = table.c[name]
            if isinstance(column.type, Boolean):
                assert values <= {True, False}, (extract.table, name)
            else:
                assert values <= vocabulary(column.info["vocabulary"]), (extract.table, name)


@pytest.mark.parametrize("site", sorted(MAPPINGS))
def test_yes_no_code_lists_say_both_yes_and_no(site):
    mapping = MAPPINGS[site]
    for extract in mapping.extracts:
        table = metadata.tables[f"raw.{extract.table}"]
        for name, spec in extract.fields.items():
            if spec.codes and isinstance(table.c[name].type, Boolean):
                assert set(mapping.codes[spec.codes].values()) == {True, False}, (site, name)


def test_packaged_mappings_are_what_the_loader_reads(monkeypatch, tmp_path):
    monkeypatch.setenv("PRRT_HOME", str(tmp_path))
    monkeypatch.setenv("PRRT_PSEUDONYM_KEY", "k")
    monkeypatch.delenv("PRRT_SITES_DIR", raising=False)
    from etl.mapping import load_all_mappings

    assert set(load_all_mappings(Settings.from_env())) == set(MAPPINGS)
