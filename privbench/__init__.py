"""privbench: a reproducibility benchmark for the privacy of emotion-recognition representations."""

__version__ = "0.1.0"
