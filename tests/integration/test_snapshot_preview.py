"""Gate 1's preview of a snapshot's withdrawals counts what the merge would then do."""

from datetime import date, datetime

import pandas as pd
import pytest

from etl import db
from etl.fingerprint import with_fingerprints
from etl.snapshot import MergeCounts, WithdrawalPreview, merge_snapshot, preview_withdrawals
from models.base import metadata

NIGHT_1, NIGHT_2 = datetime(2024, 6, 1, 2), datetime(2024, 6, 2, 2)


def labs(*records: tuple[str, date, str, float]) -> pd.DataFrame:
    return with_fingerprints(metadata.tables["raw.lab_result"], pd.DataFrame({
        "patient_pseudonym": [r[0] for r in records], "sample_date": [r[1] for r in records],
        "analyte": [r[2] for r in records], "value": [r[3] for r in records],
        "is_canonical_unit": True, "source_file": "lab.csv", "source_file_sha256": "0" * 64,
        "source_row": range(2, len(records) + 2)}))


P1_JAN, P1_FEB = ("P1", date(2024, 1, 2), "cga", 90.0), ("P1", date(2024, 2, 2), "cga", 95.0)
P2_JAN, P3_JAN = ("P2", date(2024, 1, 2), "hb", 7.1), ("P3", date(2024, 1, 2), "hb", 8.0)


def test_withdrawals_are_counted_by_natural_key_among_the_centres_current_records(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1_JAN, P1_FEB, P2_JAN, P3_JAN),
                       1, NIGHT_1)
        merge_snapshot(connection, "lab_result", "IOW", labs(("P9", date(2024, 1, 2), "cga",
                                                             80.0)), 2, NIGHT_1)
        # night 2 withdraws P3's value: it is no longer a current record of ROT
        merge_snapshot(connection, "lab_result", "ROT", labs(P1_JAN, P1_FEB, P2_JAN), 3, NIGHT_2)

        # tonight: P1's January value twice, P2's value corrected (same key), a new value;
        # P1's February value is missing
        tonight = labs(P1_JAN, P1_JAN, ("P2", date(2024, 1, 2), "hb", 7.3),
                       ("P4", date(2024, 3, 1), "cga", 70.0))
        preview = preview_withdrawals(connection, "lab_result", "ROT", tonight)
        assert preview == WithdrawalPreview(current_records=3, incoming_records=3,
                                            would_withdraw=1)
        # P1's January value (twice) is stored as sent; P2's is corrected, P4's new
        assert preview.recognised.rows.tolist() == [True, True, False, False]
        # P1's January value is sent twice: a key two of tonight's records share
        assert preview.recognised.shares_key.tolist() == [True, True, False, False]
        # IOW's record is not ROT's to withdraw; all of IOW's would go with an empty night
        assert preview_withdrawals(connection, "lab_result", "IOW", tonight.head(0)) == \
            WithdrawalPreview(current_records=1, incoming_records=0, would_withdraw=1)

        merged = merge_snapshot(connection, "lab_result", "ROT",
                                tonight.drop_duplicates(["patient_pseudonym", "sample_date",
                                                         "analyte"]), 4, NIGHT_2)
        assert merged.withdrawn == preview.would_withdraw


def test_records_resent_unchanged_that_share_a_key_with_another_are_flagged(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1_JAN, P1_FEB, P2_JAN), 1, NIGHT_1)
        # tonight: P1's values and P2's resent unchanged; beside P2's, a new record with
        # its key (another value), and a new one of P3's
        tonight = labs(P1_JAN, P2_JAN, P1_FEB, ("P2", date(2024, 1, 2), "hb", 7.3), P3_JAN)
        preview = preview_withdrawals(connection, "lab_result", "ROT", tonight)
        # four keys tonight (P2's counted once), none of the three current records missing
        assert preview == WithdrawalPreview(current_records=3, incoming_records=4,
                                            would_withdraw=0)
        recognised = preview.recognised
        assert recognised.rows.tolist() == [True, True, True, False, False]
        assert recognised.shares_key.tolist() == [False, True, False, False, False]


def test_the_merge_uses_the_previews_recognition_of_the_same_records(settings):
    with db.connect(settings) as connection:
        db.upgrade(connection)
        merge_snapshot(connection, "lab_result", "ROT", labs(P1_JAN, P1_FEB, P2_JAN), 1, NIGHT_1)
        # tonight, with the extract's accounting columns, which are not stored: P1's
        # January value resent, P2's corrected, P4's new, P1's February value missing
        tonight = labs(P1_JAN, ("P2", date(2024, 1, 2), "hb", 7.3),
                       ("P4", date(2024, 3, 1), "cga", 70.0)).assign(unit_id=[5, 6, 7],
                                                                      extract_no=0)
        preview = preview_withdrawals(connection, "lab_result", "ROT", tonight)
        assert preview.recognised.rows.tolist() == [True, False, False]

        with pytest.raises(ValueError, match="recognised as resent unchanged were 3"):
            merge_snapshot(connection, "lab_result", "ROT", tonight.head(2), 2, NIGHT_2,
                           preview.recognised, unstored=("unit_id", "extract_no"))
        assert merge_snapshot(connection, "lab_result", "ROT", tonight, 2, NIGHT_2,
                              preview.recognised, unstored=("unit_id", "extract_no")) == \
            MergeCounts(inserted=1, updated=1, withdrawn=1)
        assert connection.exec_driver_sql(
            "SELECT patient_pseudonym, sample_date, value, load_id, valid_to IS NULL, "
            "is_withdrawn FROM raw.lab_result ORDER BY raw_id").fetchall() == [
            ("P1", date(2024, 1, 2), 90.0, 1, True, False),  # left alone: still night 1's
            ("P1", date(2024, 2, 2), 95.0, 1, True, True),
            ("P2", date(2024, 1, 2), 7.1, 1, False, False),
            ("P2", date(2024, 1, 2), 7.3, 2, True, False),
            ("P4", date(2024, 3, 1), 70.0, 2, True, False)]
