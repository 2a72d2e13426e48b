"""prepare / inspect / corpora through the CLI, on the small synthetic corpus and on manifests."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from privbench.data.corpora.table import EXPORT_COLUMNS

from conftest import invoke


def test_prepare_inspect_export_synthetic(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    result = invoke(runner, "prepare", "synthetic", "--root", str(small_synthetic))
    assert result.exit_code == 0, result.output
    assert "prepared synthetic: 36 utterances, 6 speakers, modalities audio, text" in result.output
    split = json.loads((isolated / "benchmark" / "splits" / "synthetic.json").read_text())
    assert sorted(split["speaker_folds"]) == ["F01", "F02", "F03", "M01", "M02", "M03"]

    # Later commands need only the name: the root was remembered.
    inspected = invoke(runner, "inspect", "synthetic", "--export", str(tmp_path / "table.csv"))
    assert inspected.exit_code == 0, inspected.output
    assert "fold 0: F01, M01" in inspected.output and "fold 4" not in inspected.output
    exported = pd.read_csv(tmp_path / "table.csv", keep_default_na=False)
    assert tuple(exported.columns) == EXPORT_COLUMNS and len(exported) == 36
    expected_fold = exported["speaker"].map(split["speaker_folds"])
    assert (exported["fold"] == expected_fold).all()
    assert set(exported["activation_class"]) <= {0, 1, 2}
    assert ((exported["activation"] <= 2.75) == (exported["activation_class"] == 0)).all()

    listing = invoke(runner, "corpora")
    assert "synthetic" in listing.output and "prepared" in listing.output
    assert "iemocap" in listing.output and "not prepared (needs --root)" in listing.output


def test_a_second_prepare_reuses_everything(isolated: Path, small_synthetic: Path, runner):
    first = invoke(runner, "prepare", "synthetic", "--root", str(small_synthetic))
    second = invoke(runner, "prepare", "synthetic")
    assert first.exit_code == second.exit_code == 0
    sha = [line for line in first.output.splitlines() if line.startswith("prepared")]
    assert sha == [line for line in second.output.splitlines() if line.startswith("prepared")]


def test_unprepared_and_unknown_corpora_get_one_line(isolated: Path, runner):
    result = invoke(runner, "inspect", "mycorpus")
    assert result.exit_code == 1
    assert result.output.strip() == "privbench: error: corpus 'mycorpus' is not prepared: run privbench prepare mycorpus --root DIR"
    result = invoke(runner, "prepare", "Bad_Name")
    assert result.exit_code == 1 and "corpus name 'Bad_Name' is not valid" in result.output
    result = invoke(runner, "prepare", "iemocap", "--root", str(isolated))
    assert result.exit_code == 1 and result.stderr.startswith(f"privbench: error: no Session1..5/dialog/EmoEvaluation under {isolated}")


def test_usage_errors_exit_2(runner):
    assert invoke(runner, "prepare").exit_code == 2
    assert invoke(runner, "no-such-command").exit_code == 2


# ---------------------------------------------------------------- manifest corpora

def _manifest(tmp_path: Path, small_synthetic: Path, edit=None, toml_extra: str = "") -> Path:
    """A manifest corpus made from the small synthetic corpus' audio and labels."""
    folder = tmp_path / "mine"
    shutil.copytree(small_synthetic / "audio", folder / "wav")
    table = pd.read_csv(small_synthetic / "manifest.csv", keep_default_na=False)
    table = table[["utterance_id", "speaker", "gender", "audio_path", "transcript", "activation", "valence"]].copy()
    table["audio_path"] = table["audio_path"].str.replace("audio/", "", regex=False)
    table["gender"] = table["gender"].map({"F": "female", "M": "Male"})
    if edit:
        table = edit(table)
    table.to_csv(folder / "labels.csv", index=False)
    (folder / "mine.toml").write_text(
        'display_name = "Mine"\ncsv = "labels.csv"\naudio_root = "wav"\nmodalities = ["audio", "text"]\n'
        f"scale = [1, 5]\nedges = [2.75, 3.25]\n{toml_extra}"
    )
    return folder / "mine.toml"


def test_manifest_corpus_prepares_and_inspects(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    toml = _manifest(tmp_path, small_synthetic)
    result = invoke(runner, "prepare", "mine", "--root", str(toml))
    assert result.exit_code == 0, result.output
    assert "prepared mine: 36 utterances, 6 speakers" in result.output
    # text was declared but no word vectors were given: said, not silently dropped
    assert "no text features" in result.output and "--word2vec" in result.output
    inspected = invoke(runner, "inspect", "mine", "--export", str(tmp_path / "mine.csv"))
    assert inspected.exit_code == 0
    assert set(pd.read_csv(tmp_path / "mine.csv")["gender"]) == {"F", "M"}
    assert "mine" in invoke(runner, "corpora").output


def test_manifest_length_filter_drops_utterances(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    toml = _manifest(tmp_path, small_synthetic, toml_extra="min_duration_s = 3.0\n")
    result = invoke(runner, "prepare", "mine", "--root", str(toml))
    assert result.exit_code == 0, result.output
    durations = [soundfile_duration(p) for p in sorted((tmp_path / "mine" / "wav").rglob("*.wav"))]
    kept = sum(d >= 3.0 for d in durations)
    assert 0 < kept < 36
    assert f"prepared mine: {kept} utterances" in result.output


def soundfile_duration(path: Path) -> float:
    import soundfile

    return soundfile.info(str(path)).duration


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.drop(columns=["valence"]), "labels.csv is missing the column 'valence'"),
        (lambda t: t.assign(gender=["X"] + list(t["gender"][1:])), "labels.csv line 2: gender 'X' is not F or M"),
        (lambda t: t.assign(activation=list(t["activation"][:3]) + [6.5] + list(t["activation"][4:])),
         "labels.csv line 5: activation = 6.5 is outside the declared scale"),
        (lambda t: t.assign(valence=["high"] + list(t["valence"][1:])), "line 2: valence = 'high' is not a number"),
        (lambda t: t.assign(audio_path=["F01/nothing.wav"] + list(t["audio_path"][1:])), "line 2: audio file .*nothing.wav does not exist"),
        (lambda t: pd.concat([t, t.head(1)]), "utterance_id 'F01_u001' appears twice"),
    ],
)
def test_bad_manifests_fail_with_one_line_and_write_nothing(isolated: Path, small_synthetic: Path, runner, tmp_path: Path, edit, message):
    toml = _manifest(tmp_path, small_synthetic, edit)
    result = invoke(runner, "prepare", "mine", "--root", str(toml))
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("privbench: error: ")
    assert re.search(message, lines[0]), lines[0]
    assert not (tmp_path / "cache" / "corpora").exists()
    assert list((isolated / "benchmark" / "splits").iterdir()) == []


def test_bad_manifest_toml_is_named(isolated: Path, tmp_path: Path, runner):
    toml = tmp_path / "x.toml"
    toml.write_text('csv = "a.csv"\nmodalities = ["audio", "smell"]\nscale = [1, 5]\nedges = [2, 3]\n')
    result = invoke(runner, "prepare", "x", "--root", str(toml))
    assert result.exit_code == 1 and f"{toml}: modalities = ['audio', 'smell']" in result.output
    result = invoke(runner, "prepare", "x", "--root", str(tmp_path / "absent.toml"))
    assert result.exit_code == 1 and "absent.toml does not exist" in result.output
