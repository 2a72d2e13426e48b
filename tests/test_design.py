"""The package's layout is its architecture: stages in order, and no module imports from a later stage."""

from __future__ import annotations

import ast
from pathlib import Path

import privbench

PACKAGE = Path(privbench.__file__).parent
# The stages in the order data flows through them; a module may import its own stage or an earlier one.
# Training (encoders) hands scoring nothing but the stored representations: store sits between them.
ORDER = {"base": 0, "data": 1, "encoders": 2, "store": 3, "scoring": 4, "records": 5, "run": 6, "results": 7, "front": 8}
BASE = {"errors", "paths", "storage", "protocol", "measures"}
FRONT = {"cli", "__main__", "__init__", "paper_encoder"}  # the command line and the public import paths


def _stage(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "privbench":
        raise ValueError(module)
    if len(parts) == 1:
        return "front"
    head = parts[1]
    if head in ORDER and head not in ("base", "front", "records"):
        return head
    if head == "records":
        return "records"
    return "base" if head in BASE else "front"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("privbench"):
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("privbench"))
    return found


def test_every_module_sits_in_a_stage_and_imports_only_its_own_or_earlier_ones():
    upward = []
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 40
    for path in modules:
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        module = ".".join(relative.parts).removesuffix(".__init__")
        stage = _stage(module)
        for imported in _imports(path):
            if ORDER[_stage(imported)] > ORDER[stage]:
                upward.append(f"{module} ({stage}) imports {imported} ({_stage(imported)})")
    assert upward == []


def test_no_top_level_module_is_left_outside_a_stage():
    top = {path.stem for path in PACKAGE.glob("*.py")}
    assert top == BASE | FRONT | {"records"}
    assert {path.name for path in PACKAGE.iterdir() if path.is_dir() and (path / "__init__.py").exists()} == {
        "data", "encoders", "store", "scoring", "run", "results"}


def test_training_reaches_scoring_only_through_the_store():
    """No module of encoders/ or data/ imports scoring/, and scoring/ imports no encoder: what one
    hands the other is the stored representations (privbench.store)."""
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__")
        stage = _stage(module)
        for imported in _imports(path):
            if (stage in ("data", "encoders") and _stage(imported) == "scoring") or (stage == "scoring" and _stage(imported) == "encoders"):
                crossings.append(f"{module} imports {imported}")
    assert crossings == []
    scoring_imports = {imported for path in (PACKAGE / "scoring").glob("*.py") for imported in _imports(path)}
    assert "privbench.store.representations" in scoring_imports  # scoring reads the store, and only it


def test_the_public_interface_resolves_lazily_to_the_stage_modules():
    from privbench.encoders import blocks, recipe

    assert privbench.AcousticStream is blocks.AcousticStream and privbench.train_network is recipe.train_network
    for name in privbench.__all__:
        assert getattr(privbench, name) is not None, name


def test_nothing_public_points_at_a_file_users_never_see():
    """The repository states its own protocol (docs/protocol.md): the maintainers' notes are not in it, so no
    page, report, template, card or message a user reads may send them there."""
    repo = PACKAGE.parent
    public = [repo / "README.md", repo / "CITATION.cff"]
    for folder, patterns in (("docs", ("*.md",)), ("leaderboard", ("*.md", "*.html", "*.j2")),
                             ("submissions", ("*",)), ("baselines", ("*",)), ("controls", ("*",)),
                             ("frontends", ("*",)), ("privbench", ("*.py", "*.html", "*.j2"))):
        for pattern in patterns:
            public += [path for path in (repo / folder).rglob(pattern) if path.is_file() and "__pycache__" not in path.parts]
    unseen = ("PROTOCOL.md", "ARCHITECTURE.md", "DESIGN-TARGET.md", "DATASETS.md", "STYLE.md", "../shared")
    pointing = [f"{path.relative_to(repo)}: {name}" for path in public if path.suffix not in (".png", ".json", ".npz")
                for name in unseen if name in path.read_text(errors="replace")]
    assert len(public) > 50
    assert pointing == []
