"""Baseline priv-speaker: Speaker-invariant.

One speaker-id head on h over the training set's speakers. Validation speakers are
unseen, so this head has no chance check (chance_reached stays None).
The network and the training recipe are privbench's building blocks
(privbench.paper_encoder, privbench.recipe); only the adversaries differ
between the five baselines.
"""

from privbench.paper_encoder import Adversary, PaperEncoder


class PrivSpeaker(PaperEncoder):
    adversaries = (Adversary("speaker", on="joint"),)
