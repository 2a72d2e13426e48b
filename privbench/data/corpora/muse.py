"""MuSE (Multimodal Stressed Emotion, U. Michigan): the crowdsourced label CSV, audio and transcripts.

The label folder is `Survey Information (Questions, Data etc)/` or `SurveyInformation/`
depending on the copy; audio folders differ too (`NotStressed` or `Non Stressed`), so
WAVs are found recursively by name. Speaker = the utterance id's first two digits;
gender from the CSV's Gender column. Transcripts from `Combined/Utterance Transcripts/<id>.txt`
where present.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, first_existing, missing_root, raw_table, visible, wav_index
from privbench.errors import CorpusError

LABEL_FOLDERS = ("Survey Information (Questions, Data etc)", "SurveyInformation")
LABEL_NAME = "Emotion data from crowdsourcing (C is when annotators had access to all previous sentences).csv"
COLUMNS = ("Sentence_name", "Gender", "Activation_Mean", "Valence_Mean")
GENDERS = {"f": "F", "female": "F", "m": "M", "male": "M"}


def _label_file(root: Path) -> Path | None:
    folder = first_existing(root, LABEL_FOLDERS)
    if folder is not None and (folder / LABEL_NAME).is_file():
        return folder / LABEL_NAME
    found = visible(root.rglob(LABEL_NAME.replace("[", "[[]")))
    return found[0] if found else None


def check_root(root: Path) -> None:
    if _label_file(root) is None:
        raise missing_root(root, f"'{LABEL_FOLDERS[0]}/' or '{LABEL_FOLDERS[1]}/' with the crowdsourcing label CSV",
                           "is this the MuSE release folder?")


def read(root: Path) -> pd.DataFrame:
    check_root(root)
    label_file = _label_file(root)
    labels = pd.read_csv(label_file, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in labels.columns]
    if missing:
        raise CorpusError(f"{label_file} has no column {missing[0]!r}; expected {', '.join(COLUMNS)}")
    audio = wav_index(root)
    transcripts = root / "Combined" / "Utterance Transcripts"
    rows, no_audio = [], 0
    for index, row in labels.iterrows():
        where = f"{label_file} line {index + 2}"
        utterance = Path(row["Sentence_name"].strip()).stem
        gender = GENDERS.get(row["Gender"].strip().lower())
        if gender is None:
            raise CorpusError(f"{where}: Gender {row['Gender']!r} is not one of F, M, Female, Male")
        try:
            activation, valence = float(row["Activation_Mean"]), float(row["Valence_Mean"])
        except ValueError:
            raise CorpusError(f"{where}: Activation_Mean or Valence_Mean is not a number") from None
        if utterance not in audio:
            no_audio += 1
            continue
        text_file = transcripts / f"{utterance}.txt"
        text = " ".join(text_file.read_text(encoding="utf-8", errors="replace").split()) if text_file.is_file() else ""
        rows.append({"utterance_id": utterance, "speaker": utterance[:2], "gender": gender, "audio_path": str(audio[utterance]),
                     "transcript": text, "activation": activation, "valence": valence, "duration_s": duration_s(audio[utterance])})
    if not rows:
        raise CorpusError(f"no utterance of {label_file} has audio under {root}")
    notes = [f"{no_audio} labelled utterances have no WAV under {root} and are left out"] if no_audio else []
    return raw_table(rows, notes)
