"""privbench: a reproducibility benchmark for the privacy of emotion-recognition representations.

The submission interface (see docs/submitting.md) is importable from here:

    from privbench import Encoder, EncoderSpec, Batch, LabelledSet, FitReport

Building blocks for encoders live in `privbench.blocks` (streams, heads,
gradient reversal), `privbench.recipe` (the protocol's training recipe) and
`privbench.paper_encoder` (the paper's network as an Encoder).
"""

from privbench.errors import SetupRefused
from privbench.interface import Batch, Encoder, EncoderSpec, FitReport, LabelledBatch, LabelledSet

__version__ = "0.1.0"
__all__ = ["Batch", "Encoder", "EncoderSpec", "FitReport", "LabelledBatch", "LabelledSet", "SetupRefused", "__version__"]
