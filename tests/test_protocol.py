import hashlib
from pathlib import Path

import pytest

from privbench.errors import ProtocolError
from privbench.protocol import get_protocol, load_protocol

from conftest import REPO


def test_protocol_reads_every_section_with_the_papers_numbers():
    protocol = get_protocol()
    assert protocol.version == "3"
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
    assert protocol.identity.families == ("ignorant", "informed") and protocol.membership_lr.surfaces == ("h", "loss")
    assert protocol.controls.names == ("control-noise", "control-voice", "control-memoriser")


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


def _leaf_fields(cls, via=()):
    """(class, field name, path of fields from Protocol to the class) of every field of the protocol's dataclasses."""
    import dataclasses
    import typing

    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        if field.name in ("path", "sha256"):
            continue
        kind = hints[field.name]
        inner = [a for a in (kind, *typing.get_args(kind)) if dataclasses.is_dataclass(a)]
        yield cls, field.name, via
        if inner:
            yield from _leaf_fields(inner[0], via + (field.name,))


def _receiver(node):
    """The last identifier of an expression: a.b.c -> c, a[i] -> a, f(x) -> f, replace(x, ...) -> x."""
    import ast

    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Subscript):
        return _receiver(node.value)
    if isinstance(node, ast.Call):
        if _receiver(node.func) == "replace" and node.args:
            return _receiver(node.args[0])
        return _receiver(node.func)
    return None


def _attribute_reads(source: str):
    """What one module does with names: (receiver, attribute, enclosing class) of every attribute read that
    is not a method call, (name, source receiver) of every assignment and for loop, and (parameter, annotation)."""
    import ast

    reads, assigns, params = set(), [], []
    for tree in (ast.parse(source),):
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        owner = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                for inner in ast.walk(node):
                    owner[id(inner)] = node.name
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and id(node) not in called:
                reads.add((_receiver(node.value), node.attr, owner.get(id(node))))
            elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.For)) and getattr(node, "value", getattr(node, "iter", None)) is not None:
                value = node.iter if isinstance(node, ast.For) else node.value
                targets = [node.target] if isinstance(node, (ast.AnnAssign, ast.For)) else node.targets
                for target in targets:
                    if isinstance(target, ast.Tuple) and isinstance(value, ast.Tuple) and len(target.elts) == len(value.elts):
                        assigns += [(_receiver(t), _receiver(v)) for t, v in zip(target.elts, value.elts)]
                    else:
                        assigns += [(_receiver(t), _receiver(value)) for t in getattr(target, "elts", [target])]
            elif isinstance(node, ast.arg) and node.annotation is not None:
                params.append((node.arg, ast.unparse(node.annotation)))
    return reads, assigns, params


# Protocol methods that hand out one entry of a dict-valued table.
_ACCESSORS = {"corpora": {"corpus"}, "budgets": {"budget"}}


def unread_protocol_keys(sources: list[str]) -> list[str]:
    """The protocol's keys no code reads by name: a key `a.b` counts as read only where an attribute `b` is
    read (not called) on something that holds table `a`: an expression ending in `.a`, a name bound to one
    (assigned, looped over, or a parameter annotated with its class), or `self` inside the class itself.
    So `job.seed` does not read `synthetic.seed`, and `roles.count(...)` does not read `synthetic.raters.count`."""
    from privbench.protocol import ModelConfig, ModelGrid, Protocol

    modules = [_attribute_reads(source) for source in sources]  # names are bound per module

    def read_in(module, cls, name: str, via: tuple[str, ...]) -> bool:
        reads, assigns, params = module
        holders = ({via[-1]} | _ACCESSORS.get(via[-1], set())) if via else {"protocol"}
        holders |= {param for param, annotation in params if cls.__name__ in annotation.replace("|", " ").split()}
        grown = True
        while grown:
            bound = {target for target, source in assigns if source in holders and target}
            grown = not bound <= holders
            holders |= bound
        return any(attr == name and (receiver in holders or (receiver == "self" and owner == cls.__name__))
                   for receiver, attr, owner in reads)

    return [".".join(via + (name.rstrip("_"),)) for cls, name, via in _leaf_fields(Protocol)
            if cls not in (ModelConfig, ModelGrid)  # read as a whole (the test below)
            and not any(read_in(module, cls, name, via) for module in modules)]


def _code() -> list[str]:
    import privbench

    return [path.read_text() for folder in (Path(privbench.__file__).parent, REPO / "baselines", REPO / "controls")
            for path in folder.rglob("*.py")]


def test_every_key_of_the_protocol_is_read_by_the_code_it_governs():
    """Every protocol.toml key is a field (an unknown key fails the load: tested above) and every field is
    read by name on the table that holds it, somewhere in privbench, the baselines or the controls, so editing
    a key changes what runs, never only the hash. The model configuration and grid are read as a whole
    (privbench/encoders/submission.py turns them into a submission's [config] and [search])."""
    code = _code()
    assert "_model_config(protocol.training.grid if lists else protocol.training.default_config)" in "\n".join(code)
    assert unread_protocol_keys(code) == []


def test_the_read_check_fails_when_a_read_is_deleted():
    """The check above can fail: with every read of synthetic.raters.count and synthetic.seed taken out of the
    code (where a looser check was fooled by `roles.count(` and `job.seed`), it names exactly those two keys."""
    import re

    deleted = [re.sub(r"settings\.raters\.count|protocol\.synthetic\.seed|settings\.seed", "0", source) for source in _code()]
    assert any("settings.raters.count" in source for source in _code())
    assert sorted(unread_protocol_keys(deleted)) == ["synthetic.raters.count", "synthetic.seed"]
