import pandas as pd

from etl.pseudonym import pseudonym, pseudonymise


def test_pseudonym_is_hmac_sha256_of_site_and_id():
    # Expected value from: echo -n "ROT:9988620" | openssl dgst -sha256 -hmac test-key
    assert pseudonym("ROT", "9988620", b"test-key") == (
        "e86431fe6bd5f7689c95e003c27ff83bce0d7b314d8bb879bebb792f8b64b9d7"
    )


def test_same_id_at_two_centres_gives_two_patients():
    assert pseudonym("ROT", "42", b"k") != pseudonym("BBK", "42", b"k")


def test_pseudonymise_keeps_missing_ids_missing_and_repeats_stable():
    ids = pd.Series(["1", None, "1", " 1 "])
    result = pseudonymise(ids, "ROT", b"k")
    assert result[0] == result[2] == result[3] == pseudonym("ROT", "1", b"k")
    assert pd.isna(result[1])
