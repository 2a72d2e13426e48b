"""Baseline priv-multi: Gender+speaker invariant.

A gender head and a speaker-id head, both on h behind gradient reversal.
The network and the training recipe are privbench's building blocks
(privbench.paper_encoder, privbench.recipe); only the adversaries differ
between the five baselines.
"""

from privbench.paper_encoder import Adversary, PaperEncoder


class PrivMulti(PaperEncoder):
    adversaries = (Adversary("gender", on="joint"), Adversary("speaker", on="joint"))
