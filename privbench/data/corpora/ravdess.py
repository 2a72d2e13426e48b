"""RAVDESS (Zenodo 1188976): Audio_Speech_Actors_01-24/Actor_XX/MM-VV-EE-II-SS-RR-AA.wav.

- Seven two-digit fields: modality (03 audio-only), vocal channel (01 speech, 02 song),
  emotion, intensity, statement, repetition, actor. Files are found recursively, so
  the Zenodo layout and re-arranged copies (`Audio/Actor_??/`) both work.
- Speech only: song files are left out (Actor_18 has none, and singing is another task).
- Speaker = the actor; odd actors are male, even ones female (12 and 12).
- Activation and valence classes are *derived* from the acted emotion by
  `[corpora.ravdess.derived_labels]` in protocol.toml; nobody rated them.
- Transcript: statement 01 or 02; audio is 48 kHz and is resampled by the features.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, missing_root, raw_table, visible
from privbench.errors import CorpusError

NAME = re.compile(r"^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)$")
AUDIO_ONLY, SPEECH, SONG = "03", "01", "02"
EMOTIONS = {"01": "neutral", "02": "calm", "03": "happy", "04": "sad", "05": "angry", "06": "fearful",
            "07": "disgust", "08": "surprised"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}


def _clips(root: Path) -> list[Path]:
    return [path for path in visible(root.rglob("*.wav")) if NAME.match(path.stem)]


def _no_clips(root: Path) -> CorpusError:
    return missing_root(root, "RAVDESS clips (Actor_XX/03-01-EE-II-SS-RR-AA.wav, searched recursively)",
                        "is this the unpacked Audio_Speech_Actors_01-24 folder?")


def check_root(root: Path) -> None:
    if not _clips(root):
        raise _no_clips(root)


def read(root: Path) -> pd.DataFrame:
    clips = _clips(root)  # one walk of the tree serves the root check and the reading
    if not clips:
        raise _no_clips(root)
    rows, songs, other = [], 0, 0
    for wav in clips:
        modality, channel, emotion, intensity, statement, repetition, actor = NAME.match(wav.stem).groups()
        if channel == SONG:
            songs += 1
            continue
        if modality != AUDIO_ONLY or channel != SPEECH:
            other += 1
            continue
        for code, known, field in ((emotion, EMOTIONS, "emotion"), (intensity, INTENSITIES, "intensity"),
                                   (statement, STATEMENTS, "statement")):
            if code not in known:
                raise CorpusError(f"{wav}: {field} code {code} is not one of {', '.join(known)}")
        if not 1 <= int(actor) <= 24:
            raise CorpusError(f"{wav}: actor {actor} is outside 01-24")
        rows.append({"utterance_id": wav.stem, "speaker": f"Actor_{actor}", "gender": "M" if int(actor) % 2 else "F",
                     "audio_path": str(wav), "transcript": STATEMENTS[statement], "activation": float("nan"),
                     "valence": float("nan"), "duration_s": duration_s(wav), "emotion": EMOTIONS[emotion],
                     "intensity": INTENSITIES[intensity], "repetition": int(repetition)})
    if not rows:
        raise CorpusError(f"no RAVDESS speech clip (03-01-...) under {root}: only song or video files were found")
    notes = ["activation and valence are derived from the acted emotion (protocol.toml), not rated"]
    if songs:
        notes.append(f"{songs} song clips left out (privbench uses the speech clips)")
    if other:
        notes.append(f"{other} clips that are not audio-only speech (modality 01/02) left out")
    return raw_table(rows, notes)
