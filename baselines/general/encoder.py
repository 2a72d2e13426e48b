"""Baseline general: General (no adversary).

No adversary: the network learns emotion only, and whatever gender or identity its representation carries is left there.
The network and the training recipe are privbench's building blocks
(privbench.paper_encoder, privbench.recipe); only the adversaries differ
between the five baselines.
"""

from privbench.paper_encoder import PaperEncoder


class General(PaperEncoder):
    adversaries = ()
