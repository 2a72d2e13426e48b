"""Section 2: filterbanks against an independent numpy recipe, z-normalisation, word vectors, the cache."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from privbench.data.corpora.store import feature_store_folder, load_corpus
from privbench.errors import CorpusError, FeatureError
from privbench.data.feature_cache import open_store
from privbench.data.features import PCM16_SCALE, frame_count, load_word_vectors, log_mel_filterbank, read_audio, speaker_znorm, word_matrix
from privbench.protocol import get_protocol
from privbench.data.text import tokenize

from conftest import invoke


def numpy_log_mel_filterbank(samples: np.ndarray) -> np.ndarray:
    """Kaldi's fbank recipe written out plainly (no kaldi code): the independent reference."""
    settings = get_protocol().features.audio
    rate = settings.sample_rate_hz
    length, shift = int(rate * settings.frame_length_ms / 1000), int(rate * settings.frame_shift_ms / 1000)
    fft_size = 1 << (length - 1).bit_length()  # 400 -> 512
    count = 1 + (len(samples) - length) // shift
    frames = np.stack([samples[i * shift:i * shift + length] for i in range(count)]).astype(np.float64) * PCM16_SCALE
    frames -= frames.mean(axis=1, keepdims=True)  # remove the DC offset
    emphasised = frames.copy()  # pre-emphasis; the first sample is emphasised against itself
    emphasised[:, 1:] -= settings.preemphasis * frames[:, :-1]
    emphasised[:, 0] -= settings.preemphasis * frames[:, 0]
    n = np.arange(length)
    emphasised *= 0.54 - 0.46 * np.cos(2 * np.pi * n / (length - 1))  # Hamming
    power = np.abs(np.fft.rfft(emphasised, fft_size)) ** 2  # [frames, 257]

    def mel(f):
        return 1127.0 * np.log(1.0 + f / 700.0)

    low, high = mel(settings.low_freq_hz), mel(settings.high_freq_hz or rate / 2)
    delta = (high - low) / (settings.num_mel_bins + 1)
    bin_mels = mel(np.arange(fft_size // 2) * rate / fft_size)  # Kaldi leaves out the Nyquist bin
    weights = np.zeros((settings.num_mel_bins, fft_size // 2))
    for b in range(settings.num_mel_bins):
        left, centre, right = low + b * delta, low + (b + 1) * delta, low + (b + 2) * delta
        rising = (bin_mels > left) & (bin_mels <= centre)
        falling = (bin_mels > centre) & (bin_mels < right)
        weights[b, rising] = (bin_mels[rising] - left) / (centre - left)
        weights[b, falling] = (right - bin_mels[falling]) / (right - centre)
    energies = power[:, : fft_size // 2] @ weights.T
    return np.log(np.maximum(energies, np.finfo(np.float32).eps))


def test_filterbank_matches_the_numpy_recipe_on_real_speech(small_synthetic: Path):
    waveform, rate = read_audio(next((small_synthetic / "audio").rglob("*.wav")))
    ours = log_mel_filterbank(waveform, rate)
    reference = numpy_log_mel_filterbank(waveform)
    assert ours.shape == reference.shape and ours.dtype == np.float32 and ours.shape[1] == 40
    # float32 arithmetic inside kaldi-native-fbank against float64 here: 1e-3 in log energy
    # (0.1%) on speech frames; near-silent frames (log energy < 5) may differ a little more.
    speech = reference > 5.0
    assert np.abs(ours - reference)[speech].max() < 1e-3
    assert np.abs(ours - reference).max() < 0.05


@pytest.mark.parametrize(("samples", "frames"), [(400, 1), (559, 1), (560, 2), (16000, 98), (48000, 298)])
def test_frame_counts_for_known_lengths(samples, frames):
    assert frame_count(samples) == frames
    noise = np.random.default_rng(0).normal(0, 0.1, samples).astype(np.float32)
    assert log_mel_filterbank(noise, 16000).shape == (frames, 40)


def test_other_rates_and_stereo_are_resampled_to_16k_mono():
    rng = np.random.default_rng(1)
    at_48k = rng.normal(0, 0.1, 48000).astype(np.float32)  # one second
    assert log_mel_filterbank(at_48k, 48000).shape == (98, 40)
    stereo = np.stack([at_48k[:16000], at_48k[:16000]], axis=1)
    assert np.allclose(log_mel_filterbank(stereo, 16000), log_mel_filterbank(at_48k[:16000], 16000))


def test_audio_shorter_than_a_frame_is_refused():
    with pytest.raises(FeatureError, match="shorter than one 25 ms frame"):
        log_mel_filterbank(np.zeros(399, np.float32), 16000)


def test_speaker_znorm_gives_mean_0_std_1_per_speaker():
    rng = np.random.default_rng(2)
    matrices = [rng.normal(loc, scale, (n, 40)).astype(np.float32) for loc, scale, n in [(5, 2, 30), (5, 2, 50), (-3, 0.5, 40)]]
    speakers = ["a", "a", "b"]
    normalised = speaker_znorm(matrices, speakers)
    for speaker, indices in (("a", [0, 1]), ("b", [2])):
        frames = np.concatenate([normalised[i] for i in indices])
        assert np.allclose(frames.mean(axis=0), 0, atol=1e-5) and np.allclose(frames.std(axis=0), 1, atol=1e-4)
    assert not np.allclose(normalised[0].mean(axis=0), 0, atol=1e-3)  # per speaker, not per utterance


def test_tokens_unknown_words_and_lookup_order():
    settings = get_protocol().features.text
    assert tokenize("Well, it's GREAT -- really great!", settings) == ["well", "it's", "great", "really", "great"]
    vocabulary = {"great": np.full(300, 1.0), "Paris": np.full(300, 2.0)}
    matrix = word_matrix(["great", "paris", "zzz"], vocabulary, settings)
    assert matrix.shape == (3, 300) and matrix.dtype == np.float32
    assert matrix[0, 0] == 1.0 and matrix[1, 0] == 2.0  # title-case fallback
    assert not matrix[2].any()  # <unk> is all zeros
    assert word_matrix([], vocabulary, settings).shape == (1, 300)  # an empty transcript is one <unk>


def test_word_vectors_text_format_and_bad_files(tmp_path: Path):
    good = tmp_path / "vectors.txt"
    good.write_text("2 300\nhello " + " ".join(["0.5"] * 300) + "\nworld " + " ".join(["1"] * 300) + "\n")
    vectors = load_word_vectors(good)
    assert vectors["hello"][0] == pytest.approx(0.5)
    small = tmp_path / "small.txt"
    small.write_text("1 3\nhello 1 2 3\n")
    with pytest.raises(FeatureError, match="small.txt holds 3-d vectors; the protocol needs 300-d"):
        load_word_vectors(small)
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x00\x01not a word2vec file")
    with pytest.raises(FeatureError, match="garbage.bin is not a word2vec file in binary"):
        load_word_vectors(garbage)


def test_prepare_builds_a_memory_mapped_cache_that_matches_the_features(isolated: Path, small_synthetic: Path, runner):
    assert invoke(runner, "prepare", "synthetic", "--root", str(small_synthetic)).exit_code == 0
    protocol = get_protocol()
    corpus = load_corpus("synthetic", protocol)
    audio = open_store(feature_store_folder(corpus, "audio"))
    text = open_store(feature_store_folder(corpus, "text"))
    assert isinstance(audio.values, np.memmap) and audio.dim == 40 and text.dim == 300
    assert len(audio) == len(text) == 36
    first = corpus.table.iloc[0]
    waveform, rate = read_audio(Path(first["audio_path"]))
    assert audio.length(first["utterance_id"]) == frame_count(len(waveform))
    assert text.length(first["utterance_id"]) == len(tokenize(first["transcript"], protocol.features.text))
    # stored audio features are z-normalised per speaker
    speaker_rows = corpus.table[corpus.table["speaker"] == first["speaker"]]["utterance_id"]
    frames = np.concatenate([audio[u] for u in speaker_rows])
    assert np.allclose(frames.mean(axis=0), 0, atol=1e-4) and np.allclose(frames.std(axis=0), 1, atol=1e-3)
    # the synthetic corpus' own word2vec covers its whole vocabulary: no <unk> rows
    assert all(np.abs(text[u]).sum(axis=1).min() > 0 for u in corpus.table["utterance_id"])


def test_a_changed_setting_makes_a_new_cache_entry(isolated: Path, small_synthetic: Path, runner):
    assert invoke(runner, "prepare", "synthetic", "--root", str(small_synthetic)).exit_code == 0
    before = feature_store_folder(load_corpus("synthetic", get_protocol()), "audio")
    protocol_file = isolated / "benchmark" / "protocol.toml"
    protocol_file.write_text(protocol_file.read_text().replace("preemphasis = 0.97", "preemphasis = 0.0"))
    from privbench import protocol as protocol_module

    protocol_module._cached_protocol.cache_clear()
    try:
        assert invoke(runner, "prepare", "synthetic").exit_code == 0
        after = feature_store_folder(load_corpus("synthetic", get_protocol()), "audio")
    finally:
        protocol_module._cached_protocol.cache_clear()
    assert after != before and before.exists() and after.exists()


def _synthetic_as_manifest(tmp_path: Path, small_synthetic: Path, modalities: str, edit=None) -> Path:
    """Manifest corpus "m" over the small synthetic corpus' audio (absolute paths), optionally edited."""
    table = pd.read_csv(small_synthetic / "manifest.csv", keep_default_na=False)
    table["audio_path"] = [str(small_synthetic / p) for p in table["audio_path"]]
    if edit:
        edit(table)
    table.to_csv(tmp_path / "m.csv", index=False)
    toml = tmp_path / "m.toml"
    toml.write_text(f'csv = "m.csv"\nmodalities = {modalities}\nscale = [1, 5]\nedges = [2.75, 3.25]\n')
    return toml


def _manifest_with_one_bad_wav(tmp_path: Path, small_synthetic: Path, content: bytes | None) -> Path:
    bad = tmp_path / "bad.wav"
    if content is None:
        soundfile.write(bad, np.zeros(0, np.float32), 16000)
    else:
        bad.write_bytes(content)

    def first_utterance_is_bad(table: pd.DataFrame) -> None:
        table.loc[0, "audio_path"] = str(bad)

    return _synthetic_as_manifest(tmp_path, small_synthetic, '["audio"]', first_utterance_is_bad)


def test_empty_audio_fails_prepare_with_the_file_named(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    result = invoke(runner, "prepare", "m", "--root", str(_manifest_with_one_bad_wav(tmp_path, small_synthetic, None)))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == f"privbench: error: audio file {tmp_path / 'bad.wav'} is empty: replace or remove it"
    assert not (tmp_path / "cache" / "corpora" / "m").exists()
    assert not (isolated / "benchmark" / "splits" / "m.json").exists()  # the split is fixed only by a whole prepare


def test_unreadable_audio_fails_prepare_with_the_file_named(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    result = invoke(runner, "prepare", "m", "--root", str(_manifest_with_one_bad_wav(tmp_path, small_synthetic, b"RIFF garbage")))
    assert result.exit_code == 1 and f"cannot read audio file {tmp_path / 'bad.wav'}" in result.output


def test_bad_word2vec_file_fails_prepare(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    bad = tmp_path / "vectors.bin"
    bad.write_bytes(b"nonsense")
    result = invoke(runner, "prepare", "synthetic", "--root", str(small_synthetic), "--word2vec", str(bad))
    assert result.exit_code == 1 and f"{bad} is not a word2vec file" in result.output


def test_text_features_of_a_corpus_without_transcripts_are_refused(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    def no_transcripts(table: pd.DataFrame) -> None:
        table["transcript"] = ""

    toml = _synthetic_as_manifest(tmp_path, small_synthetic, '["audio", "text"]', no_transcripts)
    assert invoke(runner, "prepare", "m", "--root", str(toml)).exit_code == 0
    corpus = load_corpus("m", get_protocol())
    assert corpus.modalities == ("audio",)
    with pytest.raises(CorpusError, match="corpus m has no transcripts, so it has no text features"):
        feature_store_folder(corpus, "text")


def test_word2vec_bin_gz_gives_a_manifest_corpus_text_features(isolated: Path, small_synthetic: Path, runner, tmp_path: Path):
    """The GoogleNews path: gzipped binary vectors, looked up once, then cached."""
    import gzip

    vectors = tmp_path / "vectors.bin.gz"
    vectors.write_bytes(gzip.compress((small_synthetic / "word2vec.bin").read_bytes()))
    toml = _synthetic_as_manifest(tmp_path, small_synthetic, '["audio", "text"]')
    result = invoke(runner, "prepare", "m", "--root", str(toml), "--word2vec", str(vectors))
    assert result.exit_code == 0, result.output
    assert "modalities audio, text" in result.output
    vectors.unlink()  # a later prepare never opens the big file again
    again = invoke(runner, "prepare", "m")
    assert again.exit_code == 0 and "no text features" not in again.output
    text = open_store(feature_store_folder(load_corpus("m", get_protocol()), "text"))
    assert len(text) == 36 and text.dim == 300
