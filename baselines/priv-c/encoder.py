"""Baseline priv-c: Priv-C (gender unlearned on h).

One gender head on the joint representation h, behind a gradient reversal layer.
The network and the training recipe are privbench's building blocks
(privbench.paper_encoder, privbench.recipe); only the adversaries differ
between the five baselines.
"""

from privbench.paper_encoder import Adversary, PaperEncoder


class PrivC(PaperEncoder):
    adversaries = (Adversary("gender", on="joint"),)
