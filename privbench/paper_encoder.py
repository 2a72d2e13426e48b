"""A stable import path kept for submissions written before the stages: use `from privbench import
PaperEncoder, Adversary` (the code lives in privbench/encoders/paper_encoder.py)."""

from privbench.encoders.paper_encoder import CONFIG_KEYS, FEATURE_DIMS, Adversary, EmotionNetwork, PaperEncoder, paper_config

__all__ = ["CONFIG_KEYS", "FEATURE_DIMS", "Adversary", "EmotionNetwork", "PaperEncoder", "paper_config"]
