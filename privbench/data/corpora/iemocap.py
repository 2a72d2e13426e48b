"""IEMOCAP (USC SAIL, IEMOCAP_full_release/): labels, transcripts, speakers. See docs/datasets.md.

- Labels: the top-level `Session{1..5}/dialog/EmoEvaluation/*.txt` files (not the
  per-annotator subfolders); each turn's line `[start - end]\\tID\\tCAT\\t[V, A, D]`
  in the order [valence, activation, dominance].
- Speaker and gender: the F/M letter of the utterance id's last field
  (`Ses03M_impro05a_F017` is the female speaker of session 3); speaker = session + letter.
- Audio: `Session*/sentences/wav/<dialog>/<id>.wav`; transcripts:
  `Session*/dialog/transcriptions/<dialog>.txt`, bracketed noise tokens removed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from privbench.data.corpora.release_files import duration_s, missing_root, raw_table, visible
from privbench.errors import CorpusError

SESSIONS = range(1, 6)
LABEL_LINE = re.compile(r"^\[(\d+\.\d+) - (\d+\.\d+)\]\t(\S+)\t(\w+)\t\[(\d+\.\d+), (\d+\.\d+), (\d+\.\d+)\]\s*$")
SPEAKER = re.compile(r"^Ses(\d\d)[FM]_.*_([FM])\d{3}$")
TRANSCRIPT_LINE = re.compile(r"^(\S+) \[[\d.]+-[\d.]+\]:\s?(.*)$")
NOISE = re.compile(r"\[[^\]]*\]")


def check_root(root: Path) -> None:
    missing = [k for k in SESSIONS if not (root / f"Session{k}" / "dialog" / "EmoEvaluation").is_dir()]
    if missing:
        raise missing_root(root, "Session1..5/dialog/EmoEvaluation",
                           f"is this IEMOCAP_full_release? (missing: {', '.join(f'Session{k}' for k in missing)})")


def _labels(path: Path) -> list[tuple[str, float, float]]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.startswith("["):
            continue  # the header, rater lines and blank lines
        match = LABEL_LINE.match(line)
        if not match:
            raise CorpusError(f"{path} line {number}: not an IEMOCAP turn line ([start - end]<TAB>id<TAB>label<TAB>[V, A, D]): {line[:80]!r}")
        utterance, valence, activation = match.group(3), float(match.group(5)), float(match.group(6))
        rows.append((utterance, valence, activation))
    return rows


def _transcripts(session_dir: Path) -> dict[str, str]:
    texts = {}
    for path in visible((session_dir / "dialog" / "transcriptions").glob("*.txt")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            match = TRANSCRIPT_LINE.match(line.strip())
            if match:
                texts[match.group(1)] = " ".join(NOISE.sub(" ", match.group(2)).split())
    return texts


def read(root: Path) -> pd.DataFrame:
    check_root(root)
    rows = []
    for session in SESSIONS:
        session_dir = root / f"Session{session}"
        texts = _transcripts(session_dir)
        for label_file in visible(p for p in (session_dir / "dialog" / "EmoEvaluation").glob("*.txt") if p.is_file()):
            for utterance, valence, activation in _labels(label_file):
                match = SPEAKER.match(utterance)
                if not match:
                    raise CorpusError(f"{label_file}: utterance id {utterance!r} does not end in _F### or _M###")
                dialog = utterance.rsplit("_", 1)[0]
                wav = session_dir / "sentences" / "wav" / dialog / f"{utterance}.wav"
                if not wav.is_file():
                    raise CorpusError(f"{label_file}: labelled utterance {utterance} has no audio at {wav}")
                gender = match.group(2)
                rows.append({"utterance_id": utterance, "speaker": f"Ses{match.group(1)}{gender}", "gender": gender,
                             "audio_path": str(wav), "transcript": texts.get(utterance, ""), "activation": activation,
                             "valence": valence, "duration_s": duration_s(wav), "session": int(match.group(1))})
    if not rows:
        raise CorpusError(f"no labelled turn in {root}/Session*/dialog/EmoEvaluation/*.txt")
    return raw_table(rows, [])
