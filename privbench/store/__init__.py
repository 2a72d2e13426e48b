"""The representation store: what training hands to scoring (docs/design.md).

A training job writes one `TrainRecord` (h per utterance, emotion posteriors,
the fit's report); a frozen front end or a frozen-representation submission
writes one `RepresentationSet` per corpus. Scoring reads them and nothing
else, so a change to an attack re-scores every record without retraining.
"""
