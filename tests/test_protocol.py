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


def _leaf_fields(cls, prefix=""):
    """(dotted key, field name, parent class) of every field of the protocol's dataclasses."""
    import dataclasses
    import types
    import typing

    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in ("path", "sha256"):
            continue
        kind = hints[field.name]
        inner = [a for a in (kind, *typing.get_args(kind)) if dataclasses.is_dataclass(a)]
        yield prefix + field.name.rstrip("_"), field.name, cls
        if inner and typing.get_origin(kind) in (None, dict, typing.Union, types.UnionType):
            yield from _leaf_fields(inner[0], prefix + field.name + ".")


def test_every_key_of_the_protocol_is_read_by_the_code_it_governs():
    """Every protocol.toml key is a field (an unknown key fails the load: tested above) and every field is
    read somewhere in privbench or the baselines, so editing a key changes what runs, never only the hash.
    The model configuration and grid are read as a whole (privbench/encoders/submission.py turns them into a
    submission's [config] and [search]); every other field must be read by name."""
    import re

    import privbench
    from privbench.protocol import ModelConfig, ModelGrid, Protocol

    sources = [path.read_text() for folder in (Path(privbench.__file__).parent, REPO / "baselines")
               for path in folder.rglob("*.py")]
    code = "\n".join(sources)
    whole = "_model_config(protocol.training.grid if lists else protocol.training.default_config)"
    read_whole = {ModelConfig: whole, ModelGrid: whole}
    unread = []
    for key, name, parent in _leaf_fields(Protocol):
        if parent in read_whole:
            assert read_whole[parent] in code, f"{parent.__name__} is no longer read as a whole"
            continue
        if not re.search(rf"\.{name}\b", code):
            unread.append(key)
    assert unread == [], f"protocol keys no code reads: {unread}"
