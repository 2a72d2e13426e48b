"""The data stage: a corpus becomes an utterance table with classes and folds, and cached features
(corpus adapters, the synthetic corpus, labels, folds, filterbanks, word vectors, waveforms).
"""
