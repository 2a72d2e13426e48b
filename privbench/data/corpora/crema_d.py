"""CREMA-D (CheyneyComputerScience/CREMA-D): AudioWAV/*.wav and VideoDemographics.csv.

- File names `<actor>_<sentence>_<emotion>_<level>.wav` (`1001_DFA_ANG_XX`): speaker =
  the actor id; emotion and intensity level are the actor's intended ones from the name
  (not the raters' votes). Activation and valence classes are *derived* from them by
  `[corpora.crema-d.derived_labels]` in protocol.toml; nobody rated them.
- Gender from VideoDemographics.csv's `Sex` by `ActorID`; age, age group (decade),
  race and ethnicity ride along as extra columns for later adversaries.
- Transcript: the fixed sentence the code names (12 sentences).
- `1076_MTI_SAD_XX` has no audio signal and is skipped.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, missing_root, raw_table, visible
from privbench.errors import CorpusError

DEMOGRAPHICS = "VideoDemographics.csv"
DEMOGRAPHIC_COLUMNS = ("ActorID", "Age", "Sex", "Race", "Ethnicity")
GENDERS = {"female": "F", "male": "M"}
STEM = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
SILENT = frozenset({"1076_MTI_SAD_XX"})
SENTENCES = {
    "IEO": "It's eleven o'clock",
    "TIE": "That is exactly what happened",
    "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about",
    "TAI": "The airplane is almost full",
    "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock",
    "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket",
    "ITS": "I think I've seen this before",
    "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}


def check_root(root: Path) -> None:
    if not (root / DEMOGRAPHICS).is_file():
        raise missing_root(root, DEMOGRAPHICS, "is this the CREMA-D repository folder?")
    if not (root / "AudioWAV").is_dir():
        hint = "privbench reads the 16 kHz WAVs, not AudioMP3/" if (root / "AudioMP3").is_dir() else "fetch the audio (git lfs pull)"
        raise missing_root(root, "AudioWAV/", hint)


def _demographics(root: Path) -> dict[str, dict[str, str]]:
    path = root / DEMOGRAPHICS
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path} is not a readable CSV: {error}") from None
    missing = [c for c in DEMOGRAPHIC_COLUMNS if c not in table.columns]
    if missing:
        raise CorpusError(f"{path} has no column {missing[0]!r}; expected {', '.join(DEMOGRAPHIC_COLUMNS)}")
    actors = {}
    for index, row in table.iterrows():
        gender = GENDERS.get(row["Sex"].strip().lower())
        if gender is None:
            raise CorpusError(f"{path} line {index + 2}: Sex {row['Sex']!r} is neither Male nor Female")
        try:
            age = int(row["Age"])
        except ValueError:
            raise CorpusError(f"{path} line {index + 2}: Age {row['Age']!r} is not a whole number") from None
        actors[row["ActorID"].strip()] = {"gender": gender, "age": age, "age_group": f"{age // 10 * 10}s",
                                          "race": row["Race"].strip(), "ethnicity": row["Ethnicity"].strip()}
    return actors


def read(root: Path) -> pd.DataFrame:
    check_root(root)
    actors = _demographics(root)
    rows, silent, strange = [], 0, []
    for wav in visible((root / "AudioWAV").glob("*.wav")):
        match = STEM.match(wav.stem)
        if not match:
            strange.append(wav.name)
            continue
        if wav.stem in SILENT:
            silent += 1
            continue
        actor, sentence, emotion, level = match.groups()
        if actor not in actors:
            raise CorpusError(f"{wav}: actor {actor} is not in {root / DEMOGRAPHICS}")
        if sentence not in SENTENCES:
            raise CorpusError(f"{wav}: unknown sentence code {sentence!r} (known: {', '.join(SENTENCES)})")
        rows.append({"utterance_id": wav.stem, "speaker": actor, "audio_path": str(wav), "transcript": SENTENCES[sentence],
                     "activation": float("nan"), "valence": float("nan"), "duration_s": duration_s(wav),
                     "emotion": emotion, "intensity": level, **actors[actor]})
    if not rows:
        raise CorpusError(f"no CREMA-D clip (<actor>_<sentence>_<emotion>_<level>.wav) in {root / 'AudioWAV'}")
    notes = ["activation and valence are derived from the acted emotion (protocol.toml), not rated"]
    if silent:
        notes.append("1076_MTI_SAD_XX skipped: it has no audio signal")
    if strange:
        notes.append(f"{len(strange)} files in AudioWAV/ do not follow <actor>_<sentence>_<emotion>_<level>.wav and were left out "
                     f"(first: {strange[0]})")
    return raw_table(rows, notes)
