"""privbench: a reproducibility benchmark for the privacy of emotion-recognition representations.

The code is laid out by pipeline stage (docs/design.md draws it):
`privbench.data` (corpora, labels, folds, features) -> `privbench.scoring`
(metrics, attacks, membership, aggregation, statistics) -> `privbench.encoders`
(the interface, building blocks, the recipe, the paper's network, submissions)
-> `privbench.run` (plans, jobs, executors, evaluate, check) ->
`privbench.results` (tables, findings, reports, the leaderboard); the protocol,
records, paths, storage and errors sit at the top.

Everything a submission imports is importable from here, and these names are
the stable public interface (docs/submitting.md):

    from privbench import Encoder, EncoderSpec, Batch, LabelledSet, LabelledBatch, FitReport, SetupRefused, make_batch
    from privbench import FrozenEncoder, FrontEndSpec        # a front end that does not learn from the corpus
    from privbench import AcousticStream, LexicalStream, DenseHead, GradientReversal, GRU, masked_mean, batch_tensors
    from privbench import train_network, Head, class_weights, PaperEncoder, Adversary, mcadams
    from privbench import EmotionHead, voice_statistics       # the protocol's head on fixed h; un-normalised voice statistics
    from privbench import parametrize_with_checks          # privbench check, one pytest test per promise

The building blocks are imported on first use, so `import privbench` stays light.
"""

from privbench.encoders.frozen import FrontEndSpec, FrozenEncoder
from privbench.encoders.interface import Batch, Encoder, EncoderSpec, FitReport, LabelledBatch, LabelledSet, make_batch
from privbench.errors import SetupRefused

__version__ = "0.1.0"

# name -> the module that defines it (loaded on first access: these pull in torch)
_LAZY = {
    "AcousticStream": "privbench.encoders.blocks", "LexicalStream": "privbench.encoders.blocks",
    "DenseHead": "privbench.encoders.blocks", "GradientReversal": "privbench.encoders.blocks",
    "masked_mean": "privbench.encoders.blocks", "lengths_mask": "privbench.encoders.blocks",
    "batch_tensors": "privbench.encoders.blocks", "GRU": "privbench.encoders.gru",
    "train_network": "privbench.encoders.recipe", "Head": "privbench.encoders.recipe",
    "class_weights": "privbench.encoders.recipe", "PaperEncoder": "privbench.encoders.paper_encoder",
    "Adversary": "privbench.encoders.paper_encoder", "mcadams": "privbench.encoders.anonymise",
    "parametrize_with_checks": "privbench.run.check", "EmotionHead": "privbench.encoders.emotion_head",
    "voice_statistics": "privbench.encoders.voice",
}

__all__ = ["Batch", "Encoder", "EncoderSpec", "FitReport", "FrontEndSpec", "FrozenEncoder", "LabelledBatch", "LabelledSet",
           "SetupRefused", "make_batch",
           *_LAZY, "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'privbench' has no attribute {name!r}")
