"""The `privbench` command line (the contract of ARCHITECTURE.md).

User mistakes raise PrivbenchError and end here as one line on stderr and
exit 1; click's usage errors exit 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from privbench import __version__
from privbench.corpora.registry import adapter_for, builtin_names
from privbench.corpora.store import load_corpus, prepared_names, remembered_root
from privbench.errors import PrivbenchError
from privbench.inspect import export_table, fold_speakers, fold_summary
from privbench.prepare import PrepareProgress, prepare_corpus
from privbench.protocol import get_protocol
from privbench.storage import atomic_write_text

# Piped output (files, CI logs, tests) gets wide tables rather than rich's 80 columns.
err_console = Console(stderr=True)
out_console = Console(width=None if sys.stdout.isatty() else 120)


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PrivbenchError as error:
            click.echo(f"privbench: error: {error}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="privbench")
def cli() -> None:
    """privbench: the privacy of emotion-recognition representations, under one fixed protocol."""


def _progress() -> tuple[Progress, PrepareProgress]:
    bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    TextColumn("eta"), TimeRemainingColumn(), console=err_console, transient=False)
    tasks: dict[str, int] = {}

    def start(label: str, total: int) -> None:
        tasks[label] = bars.add_task(label, total=total)

    def advance(label: str) -> None:
        bars.advance(tasks[label])

    return bars, PrepareProgress(start, advance)


@cli.command()
@click.argument("corpus")
@click.option("--root", type=click.Path(path_type=Path), help="The corpus' folder, or a manifest corpus' TOML.")
@click.option("--word2vec", type=click.Path(path_type=Path), help="word2vec vectors (GoogleNews .bin/.bin.gz or text).")
def prepare(corpus: str, root: Path | None, word2vec: Path | None) -> None:
    """Read CORPUS, fix its folds, compute and cache its features."""
    protocol = get_protocol()
    bars, progress = _progress()
    with bars:
        prepared = prepare_corpus(corpus, protocol, root, word2vec, progress)
    for note in prepared.notes:
        click.echo(f"privbench: note: {note}", err=True)
    table = prepared.corpus.table
    click.echo(
        f"prepared {corpus}: {len(table)} utterances, {prepared.corpus.speakers} speakers, "
        f"modalities {', '.join(m for m in prepared.corpus.modalities if m in prepared.feature_stores)}; "
        f"root {prepared.corpus.root}; content sha256 {prepared.corpus.content_sha256[:12]}, "
        f"split sha256 {prepared.corpus.split_sha256[:12]}"
    )
    if corpus == "synthetic":
        click.echo("note: the synthetic corpus is eSpeak NG speech made by privbench; its numbers say nothing about real emotional speech")


@cli.command()
@click.argument("corpus")
@click.option("--root", type=click.Path(path_type=Path), help="Read from here instead of the prepared copy.")
@click.option("--export", "export_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the utterance table as CSV.")
def inspect(corpus: str, root: Path | None, export_path: Path | None) -> None:
    """Folds, speakers, gender and label balance of CORPUS."""
    protocol = get_protocol()
    prepared = load_corpus(corpus, protocol, root)
    summary = fold_summary(prepared.table, protocol.labels.classes, protocol.labels.genders)
    view = Table(title=f"{corpus}: {len(prepared.table)} utterances, {prepared.speakers} speakers "
                       f"({', '.join(prepared.modalities)}) — split {prepared.split_sha256[:12]}")
    short = {"utterances": "utts", **{f"{task}_{name}": f"{task[:3]} {name}" for task in ("activation", "valence")
                                      for name in protocol.labels.classes}}
    for column in summary.columns:
        header = short.get(column, column)
        view.add_column(header, justify="left" if column == "fold" else "right", min_width=len(header))
    for row in summary.itertuples(index=False):
        view.add_row(*(str(value) for value in row))
    out_console.print(view)
    for fold, speakers in fold_speakers(prepared.table).items():
        click.echo(f"fold {fold}: {', '.join(speakers)}")
    if export_path is not None:
        atomic_write_text(export_path, export_table(prepared.table).to_csv(index=False))
        click.echo(f"wrote {len(prepared.table)} rows to {export_path}")


@cli.command()
def corpora() -> None:
    """Known corpora: prepared or not, where, and how big."""
    protocol = get_protocol()
    view = Table(title="corpora")
    for column in ("corpus", "status", "root", "utterances", "speakers", "modalities"):
        view.add_column(column, overflow="fold")
    names = builtin_names(protocol) + [name for name in prepared_names() if name not in protocol.corpora]
    for name in names:
        root = remembered_root(name)
        if root is not None:
            try:
                corpus = load_corpus(name, protocol)
            except PrivbenchError as error:
                view.add_row(name, f"broken: {error}", str(root), "-", "-", "-")
                continue
            view.add_row(name, "prepared", str(root), str(len(corpus.table)), str(corpus.speakers), ", ".join(corpus.modalities))
            continue
        adapter = adapter_for(name, protocol)
        modalities = ", ".join(adapter.rules(protocol, None).modalities) if adapter.kind != "manifest" else "-"
        status = {"synthetic": "not generated", "licensed": "no adapter yet"}.get(adapter.kind, "not prepared")
        view.add_row(name, status, "-", "-", "-", modalities)
    out_console.print(view)
    click.echo("prepare one with: privbench prepare CORPUS [--root DIR]  (synthetic needs no root)")


@cli.command()
@click.argument("encoder_dir", type=click.Path(path_type=Path))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True,
              help="Where to train the encoder for the checks.")
def check(encoder_dir: Path, device: str) -> None:
    """Run the interface's conformance checks on the encoder in ENCODER_DIR."""
    from privbench.blocks import resolve_device
    from privbench.check import run_checks
    from privbench.submission import read_submission

    protocol = get_protocol()
    submission = read_submission(encoder_dir, protocol)
    click.echo(f"checking {submission.name} ({encoder_dir}) at the smoke budget on a tiny synthetic corpus", err=True)
    results = run_checks(submission, protocol, resolve_device(device), on_result=lambda r: click.echo(r.line()))
    failed = [result for result in results if not result.passed]
    if failed:
        raise PrivbenchError(f"{len(failed)} of {len(results)} checks failed for {submission.name} ({encoder_dir}); "
                             f"first: [{failed[0].setup}] {failed[0].promise}: {failed[0].detail}")
    click.echo(f"all {len(results)} checks passed for {submission.name} (sha256 {submission.sha256[:12]})")


def main() -> None:
    cli(prog_name="privbench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
