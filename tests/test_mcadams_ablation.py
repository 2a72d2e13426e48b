"""scripts/mcadams_ablation.py's table, read from records: each column is the model it names, each p the pair it names."""

import importlib.util
import json

import pytest

from conftest import REPO
from privbench.protocol import get_protocol
from privbench.scoring.stats import paired_p


def _script():
    spec = importlib.util.spec_from_file_location("mcadams_ablation", REPO / "scripts" / "mcadams_ablation.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _record(root, model, rotations, sd):
    metrics = {key: {"mean": sum(rotations) / len(rotations), "sd": sd, "rotations": rotations}
               for key, _ in _script().METRICS}
    path = root / model / "quick" / "toy" / "audio-activation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"metrics": metrics}))
    (path.parent / "audio-valence.json").write_text(json.dumps({"metrics": metrics}))


def test_the_table_puts_each_model_in_its_column_and_tests_the_named_pairs(tmp_path):
    general, kept, warped = [0.5, 0.6, 0.55, 0.52, 0.58], [0.3, 0.41, 0.36, 0.3, 0.4], [0.31, 0.4, 0.37, 0.33, 0.4]
    for model, values, sd in (("general", general, 0.01), ("mcadams-coefficient-1", kept, 0.02), ("mcadams", warped, 0.03)):
        _record(tmp_path, model, values, sd)
    lines = _script().ablation_table(tmp_path, ["toy"], "quick")
    assert len(lines) == 2 + 2 * 4  # header, rule, 4 metrics per task
    cells = [cell.strip() for cell in lines[2].strip("|").split("|")]
    significance = get_protocol().significance
    assert cells[:3] == ["toy", "activation", "U"]
    assert cells[3:6] == ["0.550 ± 0.010", "0.354 ± 0.020", "0.362 ± 0.030"]
    assert cells[6] == f"{paired_p(kept, general, significance):.2g}" and float(cells[6]) < 0.01
    assert cells[7] == f"{paired_p(warped, kept, significance):.2g}" and float(cells[7]) > 0.05


def test_a_missing_record_names_the_file_and_the_model_to_evaluate(tmp_path):
    _record(tmp_path, "general", [0.5, 0.6], 0.01)
    with pytest.raises(SystemExit, match=r"mcadams-coefficient-1/quick/toy/audio-activation.json is missing: evaluate"):
        _script().ablation_table(tmp_path, ["toy"], "quick")
