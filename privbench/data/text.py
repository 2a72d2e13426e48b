"""Section 2, lexical side: tokens and their word2vec lookup (no file I/O here)."""

from __future__ import annotations

import functools
import re

from privbench.protocol import TextFeatures


@functools.cache
def _token_pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def tokenize(transcript: str, settings: TextFeatures) -> list[str]:
    """Lower-case the transcript and keep the protocol's word tokens, in order."""
    text = transcript.lower() if settings.lowercase else transcript
    return _token_pattern(settings.token_pattern).findall(text)


def lookup_candidates(token: str, settings: TextFeatures) -> list[str]:
    """The spellings tried in the vocabulary, in the protocol's order, without repeats.

    Tokens are already lower-cased, so "as_is" and "lower" coincide; the
    title-cased fallback finds words such as names that GoogleNews stores capitalised.
    """
    spell = {"as_is": lambda word: word, "lower": str.lower, "title": str.title}
    candidates: list[str] = []
    for step in settings.lookup_order:
        spelled = spell[step](token)
        if spelled not in candidates:
            candidates.append(spelled)
    return candidates
