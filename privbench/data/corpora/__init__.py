"""Corpus adapters: one module per release layout, the registry of corpora, prepared corpora in the cache."""
