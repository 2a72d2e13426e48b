"""MSP-Podcast (UT Dallas): Labels/labels_consensus.csv (or labels_concensus.csv) and Audios/.

Speaker and gender come from the SpkrID and Gender columns, never the file name;
utterances whose speaker or gender is Unknown are left out (the paper used only
gender-labelled ones).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, first_existing, missing_root, raw_table
from privbench.errors import CorpusError

LABEL_FILES = ("Labels/labels_consensus.csv", "Labels/labels_concensus.csv")
COLUMNS = ("FileName", "EmoAct", "EmoVal", "SpkrID", "Gender")
GENDERS = {"female": "F", "male": "M"}


def check_root(root: Path) -> None:
    if first_existing(root, LABEL_FILES) is None:
        raise missing_root(root, "Labels/labels_consensus.csv (or labels_concensus.csv)", "is this the MSP-Podcast release folder?")
    if not (root / "Audios").is_dir():
        raise missing_root(root, "Audios/", "unpack the audio next to Labels/")


def read(root: Path) -> pd.DataFrame:
    check_root(root)
    label_file = first_existing(root, LABEL_FILES)
    try:
        labels = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise CorpusError(f"{label_file} is not a readable CSV: {error}") from None
    missing = [c for c in COLUMNS if c not in labels.columns]
    if missing:
        raise CorpusError(f"{label_file} has no column {missing[0]!r}; expected {', '.join(COLUMNS)}")
    rows, unknown, no_audio = [], 0, 0
    for index, row in labels.iterrows():
        gender = GENDERS.get(row["Gender"].strip().lower())
        speaker = row["SpkrID"].strip()
        if gender is None or not speaker or speaker.lower() == "unknown":
            unknown += 1
            continue
        try:
            activation, valence = float(row["EmoAct"]), float(row["EmoVal"])
        except ValueError:
            raise CorpusError(f"{label_file} line {index + 2}: EmoAct {row['EmoAct']!r} or EmoVal {row['EmoVal']!r} is not a number") from None
        wav = root / "Audios" / row["FileName"].strip()
        if not wav.is_file():
            no_audio += 1
            continue
        rows.append({"utterance_id": wav.stem, "speaker": speaker, "gender": gender, "audio_path": str(wav), "transcript": "",
                     "activation": activation, "valence": valence, "duration_s": duration_s(wav)})
    if not rows:
        raise CorpusError(f"no gender-labelled utterance with audio in {label_file}")
    notes = [f"read labels from {label_file.name}"]
    if unknown:
        notes.append(f"{unknown} utterances with unknown speaker or gender left out")
    if no_audio:
        notes.append(f"{no_audio} labelled utterances have no file in Audios/ and are left out")
    return raw_table(rows, notes)
