import hashlib
from pathlib import Path

import pytest

from privbench.errors import ProtocolError
from privbench.protocol import get_protocol, load_protocol

from conftest import REPO


def test_protocol_reads_every_section_with_the_papers_numbers():
    protocol = get_protocol()
    assert protocol.version == "2"
    assert protocol.training.gender_chance_tolerance == 0.05 and protocol.metrics.inversion_margin == 0.05
    assert protocol.membership.fold_roles == ("train", "train", "train", "attacker", "score")
    assert protocol.significance.reference_for("2") == "priv-c" and protocol.significance.reference_for("1a") == "general"
    assert protocol.corpus("iemocap").edges == (2.75, 3.25)
    assert protocol.corpus("msp-podcast").scale == (1.0, 7.0)
    assert protocol.corpus("msp-podcast").require_known_gender
    assert protocol.corpus("muse").scale == ("min", "max")
    assert (protocol.corpus("muse").min_duration_s, protocol.corpus("muse").max_duration_s) == (3.0, 25.0)
    assert protocol.features.audio.num_mel_bins == 40 and protocol.features.text.dim == 300
    assert protocol.training.default_config.lambda_ == 0.5
    assert protocol.training.grid.lambda_ == (0.3, 0.5, 0.75, 1.0)
    assert protocol.attacker.hidden_layers == (2, 3, 4)
    assert [protocol.budget(name).rotations for name in ("smoke", "quick", "standard", "paper")] == [1, 5, 5, 5]
    assert protocol.budget("standard").random_draws == 7


def test_fingerprint_is_the_sha256_of_the_file():
    path = REPO / "benchmark" / "protocol.toml"
    assert load_protocol(path).sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_protocol_is_frozen():
    with pytest.raises(AttributeError):
        get_protocol().folds.count = 4  # type: ignore[misc]


def test_unknown_budget_names_the_choices():
    with pytest.raises(ProtocolError, match="unknown budget 'huge'.*smoke, quick, standard, paper"):
        get_protocol().budget("huge")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda text: text.replace("count = 5\n", "count = 5\ncuont = 4\n", 1), "unknown key folds.cuont"),
        (lambda text: text.replace("batch_size = 32\n", ""), "missing key training.batch_size"),
        (lambda text: text.replace("batch_size = 32", 'batch_size = "32"'), "training.batch_size"),
        (lambda text: text + "\n[[broken", "not valid TOML"),
        (lambda text: text.replace('"attacker", "score"]', '"train", "score"]'), "membership.fold_roles"),
    ],
)
def test_a_malformed_protocol_is_named_precisely(tmp_path: Path, edit, message):
    path = tmp_path / "protocol.toml"
    path.write_text(edit((REPO / "benchmark" / "protocol.toml").read_text()))
    with pytest.raises(ProtocolError, match=message):
        load_protocol(path)
