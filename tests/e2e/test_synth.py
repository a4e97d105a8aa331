"""`prrt synth` as a user runs it: several nights of one cohort in one call."""

import filecmp

from tests.conftest import prrt

GENERATE = ["--patients", "40", "--seed", "3", "--export-date", "2024-06-01",
            "--interval-days", "1", "--centre", "ROT", "--centre", "IOW"]


def _files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_several_nights_in_one_call_are_the_nights_written_one_by_one(settings, tmp_path):
    both = prrt(settings, "synth", "--out", str(tmp_path / "both"), "--night", "2",
                "--night", "1", *GENERATE)
    assert both.returncode == 0, both.stderr
    for night in (1, 2):
        alone = tmp_path / f"alone{night}"
        assert prrt(settings, "synth", "--out", str(alone), "--night", str(night),
                    *GENERATE).returncode == 0
        together = tmp_path / "both" / f"night{night}"
        names = _files(alone)
        assert names == _files(together) and len(names) >= 2  # ROT and IOW files
        _, mismatch, errors = filecmp.cmpfiles(alone, together, names, shallow=False)
        assert not mismatch and not errors
    dated = sorted(p.name for p in (tmp_path / "both" / "night2").iterdir())
    assert dated == ["IOW_20240602", "ROT_20240602"]  # one interval after night 1


def test_night_zero_is_refused(settings, tmp_path):
    result = prrt(settings, "synth", "--out", str(tmp_path), "--night", "0", *GENERATE)
    assert result.returncode == 2
    assert "--night must be 1 or later" in result.stderr
