"""The scoring stage: metrics, attacks on frozen representations, membership sets, the selection
and aggregation of job results, and the significance tests.
"""
