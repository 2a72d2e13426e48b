import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from privbench.data.corpora.table import content_sha256
from privbench.protocol import get_protocol
from privbench.storage import sha256_file
from privbench.data.synthetic.generate import MANIFEST, SyntheticSize, generate_synthetic_corpus

from conftest import SMALL


def test_small_corpus_has_the_asked_size_and_the_protocols_shape(small_synthetic: Path):
    settings = get_protocol().synthetic
    table = pd.read_csv(small_synthetic / MANIFEST, keep_default_na=False)
    assert len(table) == 36 and table["speaker"].nunique() == 6
    assert table.groupby("gender")["speaker"].nunique().to_dict() == {"F": SMALL.speakers_female, "M": SMALL.speakers_male}
    assert table["transcript"].str.len().min() > 0
    for column in ("activation", "valence"):
        assert table[column].between(1, 5).all()
        # the mean of five integer ratings is a multiple of 0.2
        assert np.allclose(table[column] * 5, np.round(table[column] * 5))
    for row in table.itertuples():
        info = soundfile.info(str(small_synthetic / row.audio_path))
        assert info.samplerate == 16000 and info.channels == 1
        assert settings.min_duration_s - 0.01 <= info.duration <= settings.max_duration_s + 0.01
    assert (small_synthetic / "word2vec.bin").stat().st_size > 0
    assert "synthetic" in (small_synthetic / "SYNTHETIC.txt").read_text()


def test_same_seed_gives_the_same_bytes_whatever_the_worker_count(tmp_path: Path):
    tiny = SyntheticSize(1, 1, 3)
    one = generate_synthetic_corpus(tmp_path / "one", tiny, workers=1)
    two = generate_synthetic_corpus(tmp_path / "two", tiny, workers=2)
    table = pd.read_csv(one / MANIFEST, keep_default_na=False)
    for row in table.itertuples():
        assert sha256_file(one / row.audio_path) == sha256_file(two / row.audio_path), row.audio_path
    assert (one / MANIFEST).read_bytes() == (two / MANIFEST).read_bytes()
    assert (one / "word2vec.bin").read_bytes() == (two / "word2vec.bin").read_bytes()


def test_a_smaller_corpus_is_an_exact_subset_of_a_larger_one(tmp_path: Path, small_synthetic: Path):
    tiny = generate_synthetic_corpus(tmp_path / "tiny", SyntheticSize(1, 1, 3), workers=2)
    tiny_table = pd.read_csv(tiny / MANIFEST, keep_default_na=False)
    small_table = pd.read_csv(small_synthetic / MANIFEST, keep_default_na=False).set_index("utterance_id")
    for row in tiny_table.itertuples():
        assert small_table.at[row.utterance_id, "transcript"] == row.transcript
        assert sha256_file(tiny / row.audio_path) == sha256_file(small_synthetic / row.audio_path)


def test_other_seed_gives_other_content(tmp_path: Path):
    tiny = SyntheticSize(1, 1, 2)
    first = generate_synthetic_corpus(tmp_path / "a", tiny, seed=1, workers=2)
    second = generate_synthetic_corpus(tmp_path / "b", tiny, seed=2, workers=2)
    assert (first / MANIFEST).read_bytes() != (second / MANIFEST).read_bytes()


def test_content_sha256_changes_when_one_audio_byte_changes(tmp_path: Path):
    corpus = generate_synthetic_corpus(tmp_path / "c", SyntheticSize(1, 1, 1), workers=2)
    table = pd.read_csv(corpus / MANIFEST, keep_default_na=False)
    table["audio_path"] = [str(corpus / p) for p in table["audio_path"]]
    table["duration_s"] = 1.0
    before = content_sha256(table, corpus)
    path = Path(table["audio_path"][0])
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))
    assert content_sha256(table, corpus) != before


def shrink_synthetic_design(root: Path, utterances_per_speaker: int) -> Path:
    """Make the isolated protocol.toml's embedded corpus 5 + 5 speakers, so generating it on first use takes seconds."""
    path = root / "benchmark" / "protocol.toml"
    small = path.read_text().replace("speakers_female = 12", "speakers_female = 5").replace("speakers_male = 12", "speakers_male = 5")
    resized = small.replace("utterances_per_speaker = 40", f"utterances_per_speaker = {utterances_per_speaker}")
    assert resized != path.read_text(), "protocol.toml's [synthetic] sizes moved: update this helper"
    path.write_text(resized)
    return path


def test_a_corpus_of_an_older_design_is_never_served_and_is_made_anew(isolated, runner):
    # A prepared synthetic corpus remembers its root; once protocol.toml's [synthetic] design changes,
    # that corpus is stale: loading it is refused in one line and first use generates the new design.
    from conftest import invoke
    from privbench.data.corpora.store import load_corpus, remembered_root
    from privbench.errors import CorpusError
    from privbench.data.prepare import ensure_prepared, needs_generating
    from privbench.protocol import load_protocol

    path = shrink_synthetic_design(isolated, utterances_per_speaker=2)
    assert invoke(runner, "prepare", "synthetic").exit_code == 0
    old_root = remembered_root("synthetic")
    assert not needs_generating("synthetic", load_protocol(path))

    path.write_text(re.sub(r"(?m)^utterance_pitch_sd = .*$", "utterance_pitch_sd = 7.5", path.read_text()))
    changed = load_protocol(path)
    assert needs_generating("synthetic", changed)
    try:
        load_corpus("synthetic", changed)
        raise AssertionError("a corpus of an older design was served")
    except CorpusError as error:
        assert "generated with an older design: run privbench prepare synthetic" in str(error)
    ensure_prepared("synthetic", changed)
    assert remembered_root("synthetic") != old_root and not needs_generating("synthetic", changed)


def test_on_a_fresh_machine_plan_says_what_it_would_generate_and_evaluate_generates_it(isolated, runner, tmp_path):
    # Through the CLI: `reproduce --plan` must not stop with "not prepared" and must not generate
    # anything; `evaluate` on the embedded corpus generates and prepares it on first use.
    from conftest import REPO, invoke
    from privbench.data.prepare import needs_generating
    from privbench.protocol import load_protocol

    path = shrink_synthetic_design(isolated, utterances_per_speaker=4)
    (isolated / "baselines").mkdir(exist_ok=True)
    for name in ("general", "priv-c"):  # table 1a's models
        shutil.copytree(REPO / "baselines" / name, isolated / "baselines" / name)
    assert needs_generating("synthetic", load_protocol(path))

    plan = invoke(runner, "reproduce", "--table", "1a", "--budget", "smoke", "--plan")
    assert plan.exit_code == 0, plan.output
    assert "synthetic is not generated yet: reproduce will generate and prepare it first" in plan.stdout
    assert "0 cached" in plan.stdout
    assert needs_generating("synthetic", load_protocol(path))  # planning generated nothing

    results = tmp_path / "results"
    result = invoke(runner, "evaluate", str(REPO / "baselines" / "general"), "--corpus", "synthetic", "--modality", "audio",
                    "--task", "activation", "--budget", "smoke", "--workers", "1", "--results", str(results))
    assert result.exit_code == 0, result.output
    assert not needs_generating("synthetic", load_protocol(path))
    assert sorted(p.name for p in results.rglob("*.json")) == ["audio-activation.json"]
