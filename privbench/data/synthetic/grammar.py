"""The template grammar of the synthetic corpus' transcripts.

Valence chooses the words: every sentiment slot draws a positive, neutral or
negative word with probabilities from a softmax of the utterance's valence.
Speakers have lexical habits (a favourite opener and favourite topics), which
is one of the ways identity leaks through text in real corpora.
"""

from __future__ import annotations

import re

import numpy as np

ADJECTIVES = {
    "positive": ["wonderful", "great", "lovely", "happy", "amazing", "fantastic", "beautiful", "brilliant",
                 "delightful", "excellent", "cheerful", "perfect", "pleasant", "glad", "thrilled"],
    "neutral": ["ordinary", "usual", "regular", "normal", "typical", "average", "simple", "plain",
                "standard", "common", "quiet", "long"],
    "negative": ["terrible", "awful", "horrible", "sad", "miserable", "dreadful", "annoying", "boring",
                 "painful", "disappointing", "ugly", "angry", "upset", "worried", "hopeless"],
}
VERBS = {
    "positive": ["love", "enjoy", "like", "adore", "appreciate", "cherish"],
    "neutral": ["remember", "describe", "mention", "review", "discuss", "notice"],
    "negative": ["hate", "dislike", "dread", "regret", "resent", "detest"],
}
NOUNS = ["morning", "meeting", "dinner", "weekend", "project", "trip", "movie", "letter", "garden", "concert",
         "lesson", "journey", "party", "report", "story", "market", "visit", "game", "holiday", "plan",
         "house", "phone call", "interview", "neighbour", "flight", "class"]
OPENERS = ["well", "so", "honestly", "actually", "look", "you know", "okay", "right", "basically", "listen",
           "anyway", "frankly"]
ADVERBS = ["really", "truly", "quite", "so", "very", "rather", "fairly", "somewhat"]
TIMES = ["yesterday", "this week", "last night", "today", "again", "every time", "this year"]
SUBJECTS = ["I", "we", "they", "my sister", "our team", "the neighbours", "my friend"]

# Each clause is a template; {adj}, {verb} and {noun} are filled per utterance.
CLAUSES = [
    "{subject} {verb} this {adj} {noun}",
    "the {noun} was {adverb} {adj}",
    "that was a {adj} {noun} {time}",
    "it felt {adverb} {adj} {time}",
    "{subject} {verb} the {noun} {time}",
    "my {noun} is {adverb} {adj}",
    "what a {adj} {noun}",
]
JOINERS = ["and", "but", "because"]
SENTIMENTS = ("positive", "neutral", "negative")


def sentiment_probabilities(valence_centred: float, slope: float) -> np.ndarray:
    """P(positive, neutral, negative) for one word slot."""
    logits = np.array([slope * valence_centred, 0.0, -slope * valence_centred])
    weights = np.exp(logits - logits.max())
    return weights / weights.sum()


class SpeakerStyle:
    """One speaker's lexical habits."""

    def __init__(self, rng: np.random.Generator, habit_probability: float):
        self.opener = OPENERS[rng.integers(len(OPENERS))]
        self.topics = [NOUNS[i] for i in rng.choice(len(NOUNS), size=2, replace=False)]
        self.habit_probability = habit_probability

    def clause(self, rng: np.random.Generator, sentiment_p: np.ndarray) -> str:
        def pick(words: dict[str, list[str]]) -> str:
            bank = words[SENTIMENTS[rng.choice(3, p=sentiment_p)]]
            return bank[rng.integers(len(bank))]

        noun = self.topics[rng.integers(2)] if rng.random() < self.habit_probability else NOUNS[rng.integers(len(NOUNS))]
        template = CLAUSES[rng.integers(len(CLAUSES))]
        return template.format(
            subject=SUBJECTS[rng.integers(len(SUBJECTS))], verb=pick(VERBS), adj=pick(ADJECTIVES), noun=noun,
            adverb=ADVERBS[rng.integers(len(ADVERBS))], time=TIMES[rng.integers(len(TIMES))],
        )

    def sentence(self, rng: np.random.Generator, sentiment_p: np.ndarray, clauses: int) -> list[str]:
        """The sentence as a list of clauses (the generator drops or adds clauses to fit a duration)."""
        parts = [self.clause(rng, sentiment_p) for _ in range(clauses)]
        if rng.random() < self.habit_probability:
            parts[0] = f"{self.opener} {parts[0]}"
        return parts


def join_clauses(parts: list[str], joiners: list[str]) -> str:
    words = parts[0]
    for joiner, part in zip(joiners, parts[1:]):
        words += f" {joiner} {part}"
    words = re.sub(r"\ba (?=[aeiou])", "an ", words)
    return words[0].upper() + words[1:] + "."
