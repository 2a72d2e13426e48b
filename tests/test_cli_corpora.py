"""prepare / inspect / corpora through the CLI, on the small synthetic corpus and on manifests."""

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from privbench.data.corpora.table import EXPORT_COLUMNS

from conftest import REPO, invoke


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
    result = invoke(runner, "inspect", "mycorpus")  # neither built in nor prepared: a usage error
    assert result.exit_code == 2
    assert result.output.strip().startswith("privbench: error: unknown corpus 'mycorpus': privbench knows iemocap, ")
    assert "privbench prepare mycorpus --root ITS.toml" in result.output and len(result.output.strip().splitlines()) == 1
    result = invoke(runner, "inspect", "ravdess")  # known, not prepared: a failed run, with how to prepare it
    assert result.exit_code == 1
    assert result.output.strip() == "privbench: error: corpus 'ravdess' is not prepared: run privbench prepare ravdess --root DIR"
    result = invoke(runner, "prepare", "Bad_Name")
    assert result.exit_code == 2 and "corpus name 'Bad_Name' is not valid" in result.output
    result = invoke(runner, "prepare", "iemocap", "--root", str(isolated))
    assert result.exit_code == 1 and result.stderr.startswith(f"privbench: error: no Session1..5/dialog/EmoEvaluation under {isolated}")


def test_a_misspelt_corpus_is_unknown_and_the_closest_name_is_offered(isolated: Path, runner, tmp_path: Path):
    for args in (["evaluate", str(REPO / "baselines" / "general"), "--corpus", "ravdes"],
                 ["reproduce", "--table", "3", "--corpus", "ravdes"], ["inspect", "ravdes"]):
        result = invoke(runner, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("privbench: error: unknown corpus 'ravdes' (did you mean ravdess?): privbench knows")
        assert "not prepared" not in result.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke(runner, "prepare", "ravdes", "--root", str(empty))  # an existing folder, for a name privbench does not know
    assert result.exit_code == 2
    assert result.stderr.strip() == (f"privbench: error: 'ravdes' is not a corpus privbench knows (did you mean ravdess?), so it is "
                                     f"read as a corpus of your own, whose --root is its manifest TOML; {empty} is a folder "
                                     "(built-in corpora: iemocap, msp-improv, msp-podcast, muse, crema-d, ravdess, ased, synthetic; "
                                     "docs/datasets.md)")
    result = invoke(runner, "prepare", "ravdes")
    assert result.exit_code == 2 and "unknown corpus 'ravdes' (did you mean ravdess?)" in result.stderr
    missing = tmp_path / "missing"
    result = invoke(runner, "prepare", "ravdess", "--root", str(missing))
    assert result.exit_code == 1
    assert result.stderr.strip() == f"privbench: error: --root {missing} does not exist: give the folder of your ravdess copy (docs/datasets.md)"
    result = invoke(runner, "prepare", "ravdes", "--root", str(missing))  # a misspelt name and a missing path: the name first
    assert result.exit_code == 2
    assert result.stderr.startswith(f"privbench: error: 'ravdes' is not a corpus privbench knows (did you mean ravdess?), "
                                    f"and --root {missing} does not exist")
    result = invoke(runner, "prepare", "ravdess")  # a release never prepared, and no --root: a usage error that says what to give
    assert result.exit_code == 2
    assert result.stderr.strip() == ("privbench: error: prepare ravdess needs --root the first time: the folder of your ravdess "
                                     "copy (docs/datasets.md)")


def test_prepare_synthetic_says_where_it_generates_and_refuses_a_folder_of_something_else(isolated: Path, small_synthetic: Path,
                                                                                          runner, tmp_path: Path, monkeypatch):
    from privbench.data.corpora.registry import Adapter

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "thesis.tex").write_text("mine")
    result = invoke(runner, "prepare", "synthetic", "--root", str(busy))
    assert result.exit_code == 1 and result.stderr.startswith(f"privbench: error: --root {busy} holds no generated synthetic corpus "
                                                              "and is not an empty folder")
    assert sorted(p.name for p in busy.iterdir()) == ["thesis.tex"]  # nothing generated into it
    # The generator writes the small corpus (the full one takes minutes): what is said is what matters here.
    monkeypatch.setattr(Adapter, "generate", lambda self, root, protocol, on_speaker_done=None: shutil.copytree(small_synthetic, root))
    fresh = tmp_path / "fresh"
    result = invoke(runner, "prepare", "synthetic", "--root", str(fresh))
    assert result.exit_code == 0, result.output
    assert f"privbench: note: {fresh} holds no synthetic corpus yet: generating one into it (" in result.stderr
    again = invoke(runner, "prepare", "synthetic", "--root", str(fresh))  # now it holds one: nothing to say
    assert again.exit_code == 0 and "generating" not in again.stderr


def test_inspect_makes_the_synthetic_corpus_on_first_use_as_evaluate_does(isolated: Path, small_synthetic: Path, runner,
                                                                          tmp_path: Path, monkeypatch):
    from privbench.data.corpora.registry import Adapter

    made = []
    monkeypatch.setattr(Adapter, "generate", lambda self, root, protocol, on_speaker_done=None:
                        made.append(root) or shutil.copytree(small_synthetic, root))
    result = invoke(runner, "inspect", "synthetic", "--export", str(tmp_path / "synthetic.csv"))  # README's first look
    assert result.exit_code == 0, result.output
    assert "privbench: note: generating and preparing the synthetic corpus first" in result.stderr and len(made) == 1
    assert len(pd.read_csv(tmp_path / "synthetic.csv")) == 36


def test_usage_errors_exit_2(isolated: Path, runner):
    assert invoke(runner, "prepare").exit_code == 2
    assert invoke(runner, "no-such-command").exit_code == 2
    general = str(REPO / "baselines" / "general")
    for args, message in ((["evaluate", general, "--budget", "smok"], "privbench: error: unknown budget 'smok': choose one of smoke, "
                                                                      "quick, standard, paper\n"),
                          (["reproduce", "--table", "3", "--budget", "smok"], "unknown budget 'smok'"),
                          (["evaluate", general, "--task", "arousal"], "Invalid value for '--task'"),
                          (["reproduce", "--table", "4"], "Invalid value for '--table'"),
                          (["leaderboard", "build", "--results", "no-such-dir"], "--results no-such-dir is not a folder of result records"),
                          (["leaderboard", "check", "--results", "no-such-dir"], "--results no-such-dir is not a folder of result records")):
        result = invoke(runner, *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr, (args, result.stderr)


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
        (lambda t: pd.concat([t, t.head(1).assign(utterance_id=" F01_u001 ")]), "utterance_id ' F01_u001 ' appears twice"),
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
    for line, said in (('csv = 5', "csv = 5; give a path as a string"), ('min_duration_s = "0.5"', "min_duration_s = '0.5'; give a number")):
        toml.write_text(f'{line}\nmodalities = ["audio"]\nscale = [1, 5]\nedges = [2, 3]\n' + ("" if "csv" in line else 'csv = "a.csv"\n'))
        result = invoke(runner, "prepare", "x", "--root", str(toml))
        assert result.exit_code == 1 and f"{toml}: {said}" in result.output, result.output
    result = invoke(runner, "prepare", "x", "--root", str(tmp_path / "absent.toml"))
    assert result.exit_code == 1 and "absent.toml does not exist" in result.output
