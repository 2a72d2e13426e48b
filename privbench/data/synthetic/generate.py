"""Generate the synthetic corpus: real eSpeak NG audio, real text, simulated raters.

The corpus is written in the manifest format (`manifest.csv` + 16 kHz WAVs)
plus its own word2vec vectors, under one folder that is renamed into place
only when complete. Everything is drawn from seeded generators keyed by
(seed, gender, speaker index), so a corpus with fewer speakers or utterances
is an exact subset of the full one, and the same seed gives the same bytes.

eSpeak NG carries hidden state from one utterance to the next within a
process (even across re-initialisation), so each speaker is generated in a
fresh spawned process: the audio then depends on nothing but the seed.
"""

from __future__ import annotations

import dataclasses
import json
import math
import multiprocessing
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile
from scipy.signal import resample_poly

from privbench.errors import CorpusError
from privbench.protocol import Protocol, Synthetic, get_protocol
from privbench.storage import atomic_directory, atomic_write_json, canonical_json, sha256_bytes
from privbench.data.synthetic import grammar
from privbench.data.synthetic.espeak import VoiceSettings, synthesise

MANIFEST = "manifest.csv"
GENERATION = "generation.json"
WORD_VECTORS = "word2vec.bin"
_GENDER_CODE = {"F": 0, "M": 1}
_RATER_STREAM = 1_000_003  # distinct seed streams for the raters and the text pool
_POOL_STREAM = 1_000_033
_ESPEAK_LIMITS = {"rate": (80, 450), "pitch": (0, 100), "range": (0, 100), "volume": (0, 200)}


@dataclass(frozen=True)
class SyntheticSize:
    """How big a corpus to make; the protocol's numbers by default, smaller ones for tests."""

    speakers_female: int
    speakers_male: int
    utterances_per_speaker: int

    @classmethod
    def from_protocol(cls, synthetic: Synthetic) -> SyntheticSize:
        return cls(synthetic.speakers_female, synthetic.speakers_male, synthetic.utterances_per_speaker)

    @property
    def folder_name(self) -> str:
        return f"{self.speakers_female}f{self.speakers_male}m{self.utterances_per_speaker}u"


@dataclass(frozen=True)
class _SpeakerJob:
    speaker: str
    gender: str
    index: int
    variant: str
    utterances: int
    seed: int
    rater_biases: tuple[tuple[float, ...], tuple[float, ...]]  # (activation, valence) per rater
    settings: Synthetic
    sample_rate_hz: int
    out_dir: str


def _clip(value: float, limits: tuple[int, int]) -> int:
    return int(round(min(max(value, limits[0]), limits[1])))


def _rate(rng: np.random.Generator, latent: float, biases: tuple[float, ...], settings: Synthetic) -> float:
    """Mean of the simulated raters' integer ratings of one latent value."""
    low, high = settings.raters.scale
    ratings = [min(max(round(latent + bias + rng.normal(0.0, settings.raters.noise_sd)), low), high) for bias in biases]
    return float(np.mean(ratings))


def _to_target_rate(samples: np.ndarray, rate: int, target: int) -> np.ndarray:
    waveform = samples.astype(np.float32) / 32768.0
    divisor = math.gcd(rate, target)
    return np.clip(resample_poly(waveform, target // divisor, rate // divisor), -1.0, 1.0).astype(np.float32)


def _speak_within(text: str, voice: VoiceSettings, settings: Synthetic, target_rate: int, noise_seed: int,
                  rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    """Synthesise the sentence to last min..max seconds, without changing its words (so the transcript's
    length never depends on this utterance's activation): a sentence spoken too slowly is spoken
    faster. The speech then sits in silence, as recordings do: leading and trailing silence drawn
    from `silence_s` each (shortened to stay within the maximum), and more silence around a sentence
    still too short. Returns the audio and whether it was sped up."""
    shortest = int(settings.min_duration_s * target_rate)
    longest = int(settings.max_duration_s * target_rate)
    samples, rate = synthesise(text, voice, noise_seed)
    audio = _to_target_rate(samples, rate, target_rate)
    sped_up = len(audio) > longest
    if sped_up:
        faster = dataclasses.replace(voice, rate_wpm=_clip(voice.rate_wpm * len(audio) / longest * 1.05, _ESPEAK_LIMITS["rate"]))
        samples, rate = synthesise(text, faster, noise_seed)
        audio = _to_target_rate(samples, rate, target_rate)[:longest]
    lead, trail = (int(rng.uniform(*settings.silence_s) * target_rate) for _ in range(2))
    room = longest - len(audio)
    if lead + trail > room:
        lead, trail = lead * room // (lead + trail), trail * room // (lead + trail)
    audio = np.pad(audio, (lead, trail))
    if len(audio) < shortest:
        pad = shortest - len(audio)
        audio = np.pad(audio, (pad // 2, pad - pad // 2))
    return audio, sped_up


def _generate_speaker(job: _SpeakerJob) -> list[dict]:
    """All utterances of one speaker (run in a fresh process, see the module docstring)."""
    settings, speaker_settings, emotion = job.settings, job.settings.speaker, job.settings.emotion
    rng = np.random.default_rng([job.seed, _GENDER_CODE[job.gender], job.index])
    style = grammar.SpeakerStyle(rng, speaker_settings.favourite_word_probability)
    base_pitch = rng.normal(speaker_settings.pitch_mean[job.gender], speaker_settings.pitch_sd)
    base_range = rng.uniform(speaker_settings.range_min, speaker_settings.range_max)
    base_rate = rng.normal(speaker_settings.rate_mean, speaker_settings.rate_sd)
    own_activation, own_valence = rng.normal(0.0, speaker_settings.speaker_latent_sd, size=2)
    folder = Path(job.out_dir) / "audio" / job.speaker
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for number in range(job.utterances):
        activation = (emotion.latent_mean + speaker_settings.activation_shift[job.gender] + own_activation
                      + rng.normal(0.0, emotion.latent_sd))
        valence = (emotion.latent_mean + speaker_settings.valence_shift[job.gender] + own_valence
                   + rng.normal(0.0, emotion.latent_sd))
        a, v = activation - emotion.latent_mean, valence - emotion.latent_mean  # centred latents
        voice = VoiceSettings(
            variant=job.variant,
            rate_wpm=_clip(base_rate * (1.0 + emotion.rate_per_activation * a), _ESPEAK_LIMITS["rate"]),
            pitch=_clip(base_pitch + emotion.pitch_per_activation * a + emotion.pitch_per_valence * v
                        + rng.normal(0.0, speaker_settings.utterance_pitch_sd), _ESPEAK_LIMITS["pitch"]),
            pitch_range=_clip(base_range + emotion.range_per_activation * a, _ESPEAK_LIMITS["range"]),
            volume=_clip(emotion.volume_base + emotion.volume_per_activation * a, _ESPEAK_LIMITS["volume"]),
            language=settings.language,
        )
        sentiment_p = grammar.sentiment_probabilities(v, emotion.word_valence_slope)
        target_s = rng.uniform(settings.min_duration_s, settings.max_duration_s)
        # The sentence's length follows the speaker's habitual rate, not this utterance's: an aroused
        # speaker says the same words faster (shorter), as in real speech, instead of saying more words
        # (which would leak activation through the transcript's length).
        words_wanted = target_s * base_rate / 60.0
        clauses = max(1, int(round(words_wanted / 5.0)))  # a clause has about five words
        parts = style.sentence(rng, sentiment_p, clauses)
        joiners = [grammar.JOINERS[rng.integers(len(grammar.JOINERS))] for _ in parts[1:]]
        utterance_id = f"{job.speaker}_u{number + 1:03d}"
        noise_seed = zlib.crc32(f"{job.seed}:{utterance_id}".encode())
        text = grammar.join_clauses(parts, joiners)
        audio, sped_up = _speak_within(text, voice, settings, job.sample_rate_hz, noise_seed, rng)
        relative = Path("audio") / job.speaker / f"{utterance_id}.wav"
        soundfile.write(Path(job.out_dir) / relative, audio, job.sample_rate_hz, subtype="PCM_16")
        rows.append({
            "utterance_id": utterance_id, "speaker": job.speaker, "gender": job.gender,
            "audio_path": relative.as_posix(), "transcript": text,
            "activation": _rate(rng, activation, job.rater_biases[0], settings),
            "valence": _rate(rng, valence, job.rater_biases[1], settings),
            "voice_variant": job.variant, "sped_up": sped_up, "latent_activation": round(float(activation), 4),
            "latent_valence": round(float(valence), 4),
        })
    return rows


def _speaker_jobs(settings: Synthetic, size: SyntheticSize, seed: int, sample_rate_hz: int, out_dir: Path) -> list[_SpeakerJob]:
    rater_rng = np.random.default_rng([seed, _RATER_STREAM])
    biases = tuple(tuple(float(b) for b in rater_rng.normal(0.0, settings.raters.bias_sd, settings.raters.count)) for _ in range(2))
    jobs = []
    for gender, count, variants in (("F", size.speakers_female, settings.variants_female),
                                    ("M", size.speakers_male, settings.variants_male)):
        for index in range(count):
            jobs.append(_SpeakerJob(
                speaker=f"{gender}{index + 1:02d}", gender=gender, index=index, variant=variants[index % len(variants)],
                utterances=size.utterances_per_speaker, seed=seed, rater_biases=biases, settings=settings,
                sample_rate_hz=sample_rate_hz, out_dir=str(out_dir),
            ))
    return jobs


def text_pool(settings: Synthetic, seed: int) -> list[str]:
    """Extra sentences from the same grammar, with valence spread over the scale, for word2vec."""
    rng = np.random.default_rng([seed, _POOL_STREAM])
    sentences = []
    for _ in range(settings.word2vec.pool_sentences):
        style = grammar.SpeakerStyle(rng, settings.speaker.favourite_word_probability)
        valence = rng.uniform(-2.0, 2.0)
        parts = style.sentence(rng, grammar.sentiment_probabilities(valence, settings.emotion.word_valence_slope),
                               int(rng.integers(1, 4)))
        joiners = [grammar.JOINERS[rng.integers(len(grammar.JOINERS))] for _ in parts[1:]]
        sentences.append(grammar.join_clauses(parts, joiners))
    return sentences


# Bump when the generator writes different audio or text for the same settings, so that a
# corpus made by older code is never taken for the current design.
GENERATOR_VERSION = 2


def design(protocol: Protocol) -> dict:
    """What a generated corpus' content depends on besides its size: the generator and its settings."""
    return json.loads(canonical_json({"generator": GENERATOR_VERSION, "settings": dataclasses.asdict(protocol.synthetic),
                                      "sample_rate_hz": protocol.features.audio.sample_rate_hz}))


def default_location(cache: Path, protocol: Protocol, size: SyntheticSize) -> Path:
    """Where the default corpus of this design lives: a changed design gets a new folder."""
    digest = sha256_bytes(canonical_json(design(protocol)).encode())[:10]
    return cache / "synthetic" / f"seed{protocol.synthetic.seed}-{size.folder_name}-{digest}"


def matches_design(folder: Path, protocol: Protocol) -> bool:
    """Whether the corpus in `folder` was generated with this protocol's design (generator and settings)."""
    try:
        return json.loads((folder / GENERATION).read_text()).get("design") == design(protocol)
    except (OSError, ValueError):
        return False


def is_generated(folder: Path) -> bool:
    return (folder / MANIFEST).is_file() and (folder / GENERATION).is_file() and (folder / WORD_VECTORS).is_file()


def generate_synthetic_corpus(
    out_dir: Path,
    size: SyntheticSize | None = None,
    seed: int | None = None,
    workers: int | None = None,
    protocol: Protocol | None = None,
    on_speaker_done: Callable[[str], None] | None = None,
) -> Path:
    """Write the synthetic corpus to `out_dir` (skipped when a complete one is there).

    `size` and `seed` default to the protocol's; `workers` defaults to the
    number of cores. `on_speaker_done` is called with each finished speaker id
    (the CLI's progress bar). Returns `out_dir`.
    """
    protocol = protocol or get_protocol()
    settings = protocol.synthetic
    size = size or SyntheticSize.from_protocol(settings)
    seed = settings.seed if seed is None else seed
    if min(size.speakers_female, size.speakers_male) < 1 or size.utterances_per_speaker < 1:
        raise CorpusError(f"a synthetic corpus needs at least one speaker of each gender and one utterance each, not {size}")
    description = {
        "corpus": "synthetic", "synthetic": True, "seed": seed, "size": dataclasses.asdict(size),
        "design": design(protocol), "protocol_version": protocol.version,
    }
    if is_generated(out_dir):
        return out_dir
    from privbench.data.synthetic.word2vec import train_word_vectors  # gensim is slow to import; only here

    with atomic_directory(out_dir) as building:
        jobs = _speaker_jobs(settings, size, seed, protocol.features.audio.sample_rate_hz, building)
        workers = max(1, min(workers or os.cpu_count() or 1, len(jobs)))
        rows: list[dict] = []
        # maxtasksperchild=1: a fresh process per speaker (eSpeak NG's hidden state).
        with multiprocessing.get_context("spawn").Pool(workers, maxtasksperchild=1) as pool:
            for job, speaker_rows in zip(jobs, pool.imap(_generate_speaker, jobs)):
                rows.extend(speaker_rows)
                if on_speaker_done:
                    on_speaker_done(job.speaker)
        table = pd.DataFrame(rows)
        table.to_csv(building / MANIFEST, index=False)
        train_word_vectors(list(table["transcript"]) + text_pool(settings, seed), settings.word2vec, seed,
                           protocol.features.text, building / WORD_VECTORS)
        (building / "SYNTHETIC.txt").write_text(
            "This corpus is synthetic: eSpeak NG speech and template text generated by privbench.\n"
            "Its numbers say nothing about real emotional speech; use it to try the tool and for tests.\n"
        )
        atomic_write_json(building / GENERATION, description)
    return out_dir

