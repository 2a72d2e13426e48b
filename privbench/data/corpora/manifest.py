"""The manifest adapter: any corpus given as a CSV plus a small TOML.

    # mycorpus.toml
    display_name = "My corpus"       # optional
    csv = "manifest.csv"             # relative to this file
    audio_root = "."                 # audio_path in the CSV is relative to this
    modalities = ["audio", "text"]   # "text" needs a transcript column
    scale = [1, 5]                   # or ["min", "max"] for the data's own extremes
    edges = [2.75, 3.25]             # low = [min, e0], mid = (e0, e1], high = (e1, max]
    min_duration_s = 3.0             # optional length filter
    max_duration_s = 25.0

The CSV has the columns utterance_id, speaker, gender (F/M; female/male are
accepted), audio_path, transcript, activation, valence. Every problem is
reported with the file and line at fault, before anything is written.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd
import soundfile

from privbench.data.labels import off_scale
from privbench.errors import CorpusError
from privbench.protocol import CorpusRules

REQUIRED_COLUMNS = ("utterance_id", "speaker", "gender", "audio_path", "activation", "valence")
_GENDERS = {"f": "F", "female": "F", "m": "M", "male": "M"}
_MODALITIES = ("audio", "text")
_TOML_KEYS = {"display_name", "csv", "audio_root", "modalities", "scale", "edges", "min_duration_s", "max_duration_s"}


def read_manifest_toml(path: Path) -> tuple[CorpusRules, Path, Path]:
    """The corpus rules a manifest TOML declares, its CSV and its audio root."""
    if path.is_dir():
        raise CorpusError(f"{path} is a folder: --root must point at the corpus' manifest TOML (docs/datasets.md)")
    if not path.is_file():
        raise CorpusError(f"{path} does not exist: --root must point at the corpus' manifest TOML")
    try:
        spec = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise CorpusError(f"{path} is not valid TOML: {error}") from None
    unknown = sorted(set(spec) - _TOML_KEYS)
    if unknown:
        raise CorpusError(f"{path}: unknown key {unknown[0]!r}; a manifest TOML takes {', '.join(sorted(_TOML_KEYS))}")
    for key in ("csv", "modalities", "scale", "edges"):
        if key not in spec:
            raise CorpusError(f"{path}: missing key {key!r} (see docs/datasets.md for the manifest format)")
    for key in ("csv", "audio_root"):
        if key in spec and (not isinstance(spec[key], str) or not spec[key].strip()):
            raise CorpusError(f"{path}: {key} = {spec[key]!r}; give a path as a string, relative to the TOML")
    for key in ("min_duration_s", "max_duration_s"):
        if key in spec and (isinstance(spec[key], bool) or not isinstance(spec[key], (int, float))):
            raise CorpusError(f"{path}: {key} = {spec[key]!r}; give a number of seconds")
    modalities = spec["modalities"]
    if not isinstance(modalities, list) or not modalities or any(m not in _MODALITIES for m in modalities):
        raise CorpusError(f"{path}: modalities = {modalities!r}; use a non-empty list of {', '.join(_MODALITIES)}")
    scale, edges = spec["scale"], spec["edges"]
    if not (isinstance(scale, list) and len(scale) == 2 and all(isinstance(v, (int, float)) or v in ("min", "max") for v in scale)):
        raise CorpusError(f"{path}: scale = {scale!r}; give [low, high] numbers, or \"min\"/\"max\" for the data's extremes")
    if not (isinstance(edges, list) and len(edges) == 2 and all(isinstance(v, (int, float)) for v in edges) and edges[0] < edges[1]):
        raise CorpusError(f"{path}: edges = {edges!r}; give two increasing numbers [low_max, mid_max]")
    numeric = [float(v) for v in scale if not isinstance(v, str)]
    if len(numeric) == 2 and not numeric[0] <= edges[0] < edges[1] <= numeric[1]:
        raise CorpusError(f"{path}: edges {edges} must lie inside the scale {scale}")
    rules = CorpusRules(
        display_name=str(spec.get("display_name", path.stem)),
        scale=tuple(float(v) if not isinstance(v, str) else v for v in scale),
        edges=(float(edges[0]), float(edges[1])),
        modalities=tuple(modalities),
        folds="greedy",
        min_duration_s=spec.get("min_duration_s"),
        max_duration_s=spec.get("max_duration_s"),
    )
    return rules, path.parent / spec["csv"], path.parent / spec.get("audio_root", ".")


def _rating(value: str, where: str, column: str, rules: CorpusRules) -> float:
    try:
        rating = float(value)
    except ValueError:
        raise CorpusError(f"{where}: {column} = {value!r} is not a number") from None
    if off_scale(rating, rules.scale):
        raise CorpusError(f"{where}: {column} = {value} is outside the declared scale {list(rules.scale)}; fix the rating or the scale")
    return rating


def _duration(path: Path, where: str) -> float:
    if not path.is_file():
        raise CorpusError(f"{where}: audio file {path} does not exist; fix audio_path or audio_root")
    try:
        info = soundfile.info(str(path))
    except (RuntimeError, soundfile.LibsndfileError) as error:
        raise CorpusError(f"{where}: cannot read audio file {path} ({error}); is it a WAV/FLAC/OGG file?") from None
    return info.frames / info.samplerate


def read_manifest_csv(csv_path: Path, audio_root: Path, rules: CorpusRules) -> pd.DataFrame:
    """Raw utterance rows from a manifest CSV, every value checked."""
    if not csv_path.is_file():
        raise CorpusError(f"manifest CSV {csv_path} does not exist: check the 'csv' key of the manifest TOML")
    try:
        rows = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise CorpusError(f"{csv_path} is not a readable CSV: {error}") from None
    required = REQUIRED_COLUMNS + (("transcript",) if "text" in rules.modalities else ())
    missing = [column for column in required if column not in rows.columns]
    if missing:
        raise CorpusError(f"{csv_path} is missing the column {missing[0]!r}; a manifest needs {', '.join(required)}")
    if "transcript" not in rows.columns:
        rows["transcript"] = ""
    duplicated = rows["utterance_id"].str.strip().duplicated()
    if duplicated.any():
        line = int(duplicated.idxmax()) + 2
        raise CorpusError(f"{csv_path} line {line}: utterance_id {rows.at[duplicated.idxmax(), 'utterance_id']!r} appears twice")
    records = []
    for index, row in rows.iterrows():
        where = f"{csv_path} line {index + 2}"  # line 1 is the header
        for column in ("utterance_id", "speaker", "audio_path"):
            if not row[column].strip():
                raise CorpusError(f"{where}: {column} is empty")
        gender = _GENDERS.get(row["gender"].strip().lower())
        if gender is None:
            raise CorpusError(f"{where}: gender {row['gender']!r} is not F or M (female/male are accepted too)")
        audio_path = (audio_root / row["audio_path"]).resolve()
        records.append({
            **row.to_dict(),
            "utterance_id": row["utterance_id"].strip(), "speaker": row["speaker"].strip(), "gender": gender,
            "audio_path": str(audio_path), "transcript": row["transcript"],
            "activation": _rating(row["activation"], where, "activation", rules),
            "valence": _rating(row["valence"], where, "valence", rules),
            "duration_s": _duration(audio_path, where),
        })
    if not records:
        raise CorpusError(f"{csv_path} has no utterances")
    return pd.DataFrame.from_records(records)
