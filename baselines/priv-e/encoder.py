"""Baseline priv-e: Priv-E (gender unlearned per stream).

One gender head on each stream's pooled output (h_a and h_l) before concatenation;
it needs both streams, so unimodal setups are refused (SetupRefused).
The network and the training recipe are privbench's building blocks
(privbench.paper_encoder, privbench.recipe); only the adversaries differ
between the five baselines.
"""

from privbench.paper_encoder import Adversary, PaperEncoder


class PrivE(PaperEncoder):
    adversaries = (Adversary("gender", on="each"),)
