"""MSP-IMPROV (UT Dallas): Evaluation.txt (or Evalution.txt) and the MSP-IMPROV-*.wav files.

- Label blocks start `UTD-IMPROV-<id>.avi; <C>; A:x; V:x; D:x ; N:x;` in the order
  activation, valence, dominance, naturalness; `UTD-` names map to `MSP-` audio stems.
- Speaker and gender from the stem (`MSP-IMPROV-S01A-F01-P-FM01`: speaker F01).
- Whether 5 means high activation is unconfirmed in public sources: the adapter checks
  on the data that consensus-angry clips average higher activation than sad ones, and
  says so loudly when they do not.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, first_existing, missing_root, raw_table, wav_index
from privbench.errors import CorpusError

LABEL_FILES = ("Evaluation.txt", "Evalution.txt")
NUMBER = r"(\d+(?:\.\d+)?|NaN)"
BLOCK_LINE = re.compile(rf"^UTD-IMPROV-([A-Z0-9-]+)\.avi;\s*(\w);\s*A:{NUMBER}\s*;\s*V:{NUMBER}\s*;\s*D:{NUMBER}\s*;.*$")
STEM = re.compile(r"^MSP-IMPROV-S\d\d[AHSNX]-(([MF])\d\d)-[PRST]-")


def check_root(root: Path) -> None:
    if first_existing(root, LABEL_FILES) is None:
        raise missing_root(root, "Evaluation.txt (or Evalution.txt)", "is this the MSP-IMPROV release folder?")
    if not any(root.rglob("MSP-IMPROV-*.wav")):
        raise missing_root(root, "MSP-IMPROV-*.wav audio (searched recursively)", "is the audio unpacked there?")


def activation_direction_note(consensus: pd.Series, activation: pd.Series) -> str | None:
    """A loud note when angry clips do not average higher activation than sad ones."""
    angry, sad = activation[consensus == "A"], activation[consensus == "S"]
    if angry.empty or sad.empty:
        return "WARNING: MSP-IMPROV activation direction unchecked: no consensus-angry or -sad clips to compare"
    if angry.mean() <= sad.mean():
        return (f"WARNING: MSP-IMPROV activation looks reversed on this copy: angry clips average {angry.mean():.2f}, "
                f"sad clips {sad.mean():.2f} (5 should mean high activation); check Evaluation.txt before trusting results")
    return None


def read(root: Path) -> pd.DataFrame:
    check_root(root)
    label_file = first_existing(root, LABEL_FILES)
    audio = wav_index(root, "MSP-IMPROV-*.wav")
    rows, consensus, skipped = [], [], 0
    for number, line in enumerate(label_file.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("UTD-IMPROV-"):
            continue  # rater lines and blank lines
        match = BLOCK_LINE.match(line.strip())
        if not match:
            raise CorpusError(f"{label_file} line {number}: not an MSP-IMPROV label line: {line[:80]!r}")
        stem = "MSP-IMPROV-" + match.group(1)
        activation, valence = float(match.group(3)), float(match.group(4))
        if math.isnan(activation) or math.isnan(valence) or stem not in audio:
            skipped += 1
            continue
        speaker = STEM.match(stem)
        if not speaker:
            raise CorpusError(f"{label_file} line {number}: {stem} does not name a speaker like F01 or M03")
        rows.append({"utterance_id": stem, "speaker": speaker.group(1), "gender": speaker.group(2), "audio_path": str(audio[stem]),
                     "transcript": "", "activation": activation, "valence": valence, "duration_s": duration_s(audio[stem])})
        consensus.append(match.group(2))
    if not rows:
        raise CorpusError(f"no utterance of {label_file} has both ratings and audio under {root}")
    notes = [f"read labels from {label_file.name}"]
    if skipped:
        notes.append(f"{skipped} labelled clips left out: no activation/valence rating or no audio file")
    direction = activation_direction_note(pd.Series(consensus), pd.Series([r["activation"] for r in rows]))
    if direction:
        notes.append(direction)
    return raw_table(rows, notes)
