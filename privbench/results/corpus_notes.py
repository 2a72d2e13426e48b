"""What a reader must know about a corpus before reading its numbers: one place for every page.

The site's banner, its overview and About pages and LEADERBOARD.md all say
these sentences; they are written once here so that a new caveat (ASED's
emotion-specific sentences, found after its records landed) reaches every page
at once. Numbers about the corpora come from docs/datasets.md; whether a
corpus' labels are derived, and its display name, come from the protocol.
"""

from __future__ import annotations

from collections.abc import Iterable

from privbench.protocol import Protocol

NOTES = {
    "synthetic": "The synthetic corpus is eSpeak NG speech made by privbench: it tests the tool and says nothing about "
                 "real emotional speech.",
    "ravdess": "RAVDESS is real acted speech (24 actors, two fixed sentences).",
    "crema-d": "CREMA-D is real acted speech (91 actors, twelve fixed sentences).",
    "ased": "ASED is real acted speech in Amharic (65 speakers, five emotions, each recording accepted by at least five "
            "of eight listeners); most of its sentences are always read in one emotion, so its U also rewards "
            "recognising the sentence.",
}


def corpus_notes(corpora: Iterable[str], protocol: Protocol) -> list[str]:
    """The notes of these corpora (in NOTES' order: the synthetic corpus first), then one sentence naming those
    whose activation and valence are derived from acted categories; corpora without a note (the paper's own,
    rated by listeners) add nothing."""
    shown = set(corpora)
    lines = [note for name, note in NOTES.items() if name in shown]
    derived = sorted(protocol.corpora[name].display_name for name in shown
                     if getattr(protocol.corpora.get(name), "derived_labels", None))
    if derived:
        subject = derived[0] if len(derived) == 1 else ", ".join(derived[:-1]) + " and " + derived[-1]
        lines.append(f"The activation and valence of {subject} are derived from the acted emotion categories, not rated "
                     "by listeners, so they are not comparable with the paper's corpora.")
    return lines
