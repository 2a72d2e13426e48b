"""scripts/mcadams_ablation.py's table, read from records: each column is the model it names, each p the pair it names."""

import json

import pytest

from conftest import load_script
from privbench.protocol import get_protocol
from privbench.scoring.stats import paired_p


# what the table must show: the records' keys and their labels, in the docs' order
METRICS = (("uar", "U"), ("privacy", "P"), ("leakage", "L"), ("identity_eer", "ID-EER"), ("identity_link", "ID-link"))


def _record(root, model, task, rotations):
    """Every metric of the record gets its own values: the rotations shifted by the metric's position."""
    metrics = {key: {"mean": sum(rotations) / len(rotations) + shift, "sd": 0.001 * (shift + 1),
                     "rotations": [value + shift for value in rotations]}
               for shift, (key, _) in enumerate(METRICS)}
    path = root / model / "quick" / "toy" / f"audio-{task}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metrics": metrics}))


def test_the_table_puts_each_model_in_its_column_and_tests_the_named_pairs(tmp_path):
    general, kept, warped = [0.5, 0.6, 0.55, 0.52, 0.58], [0.3, 0.41, 0.36, 0.3, 0.4], [0.31, 0.4, 0.37, 0.33, 0.4]
    for model, values in (("general", general), ("mcadams-coefficient-1", kept), ("mcadams", warped)):
        _record(tmp_path, model, "activation", values)
        _record(tmp_path, model, "valence", [value / 2 for value in values])  # valence: another table
    lines = load_script("mcadams_ablation").ablation_table(tmp_path, ["toy"], "quick")
    assert len(lines) == 2 + 2 * len(METRICS)  # header, rule, every metric per task
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]
    assert [row[1:3] for row in rows] == [[task, label] for task in ("activation", "valence") for _, label in METRICS]
    significance = get_protocol().significance
    shift = len(METRICS) - 1  # the last metric's values are the rotations + its position
    last_activation = rows[len(METRICS) - 1]
    assert last_activation[3:6] == [f"{sum(v) / 5 + shift:.3f} ± {0.001 * (shift + 1):.3f}" for v in (general, kept, warped)]
    first_valence = rows[len(METRICS)]
    assert first_valence[3] == f"{sum(general) / 10:.3f} ± 0.001"
    assert first_valence[6] == f"{paired_p([v / 2 for v in kept], [v / 2 for v in general], significance):.2g}"
    assert float(rows[0][6]) < 0.01 and float(rows[0][7]) > 0.05  # the normalisation moved U, the warping did not


def test_a_missing_record_names_the_file_and_the_model_to_evaluate(tmp_path):
    for task in ("activation", "valence"):
        _record(tmp_path, "general", task, [0.5, 0.6])
    with pytest.raises(SystemExit, match=r"mcadams-coefficient-1/quick/toy/audio-activation.json is missing: evaluate"):
        load_script("mcadams_ablation").ablation_table(tmp_path, ["toy"], "quick")
