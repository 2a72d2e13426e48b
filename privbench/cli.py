"""The `privbench` command line (a contract: docs/evaluating.md and the tests rely on it).

User mistakes raise PrivbenchError and end here as one line on stderr and
exit 1; usage errors (click's, and UsageError: an unknown budget, corpus or
folder of records) exit 2; Ctrl-C (or SIGTERM) during a run says what was kept
and exits 130; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.table import Column, Table
from rich.text import Text

from privbench import __version__
from privbench.data.corpora.registry import adapter_for, builtin_names
from privbench.data.corpora.store import load_corpus, prepared_names, remembered_root
from privbench.errors import PrivbenchError, UsageError
from privbench.data.inspection import export_table, fold_speakers, fold_summary
from privbench.data.prepare import PrepareProgress, ensure_prepared, prepare_corpus
from privbench.protocol import get_protocol
from privbench.storage import atomic_write_text

# Piped output (files, CI logs, tests) gets wide tables rather than rich's 80 columns.
err_console = Console(stderr=True)
out_console = Console(width=None if sys.stdout.isatty() else 160)


INTERRUPTED = 130  # the shell's code for a command ended by Ctrl-C


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except PrivbenchError as error:
            click.echo(f"privbench: error: {error}", err=True)
            ctx.exit(2 if isinstance(error, UsageError) else 1)


def _budget(protocol, name: str) -> None:
    """An unknown budget is a usage error (exit 2), said before anything runs."""
    if name not in protocol.budgets:
        raise UsageError(f"unknown budget {name!r}: choose one of {', '.join(protocol.budgets)}")


def _corpus_names(protocol, names) -> None:
    """Every --corpus names a corpus privbench knows (built in, or a prepared manifest corpus): else exit 2."""
    from privbench.data.corpora.registry import check_corpus_name

    for name in names:
        check_corpus_name(name, protocol)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="privbench")
def cli() -> None:
    """privbench: the privacy of emotion-recognition representations, under one fixed protocol."""


def make_executor(name: str, workers: int | None, address: str | None = None, gpus_per_job: float = 0.0):
    """The executor the options ask for; Ray only when asked (an optional extra)."""
    from privbench.run.executor import LocalExecutor

    if name == "ray":
        from privbench.run.ray_executor import RayExecutor

        return RayExecutor(address=address, gpus_per_job=gpus_per_job, local_cpus=workers)
    if address:
        raise PrivbenchError("--address is for --executor ray")
    return LocalExecutor(workers)


class _Description(ProgressColumn):
    """A task's description on one line, cut short with "…" where the terminal is narrow, so that the
    bar, the counts, the time left and the time elapsed always show (an 80-column terminal included)."""

    def __init__(self):
        super().__init__(table_column=Column(ratio=1, overflow="ellipsis", min_width=8))

    def render(self, task) -> Text:
        return Text(task.description, no_wrap=True, overflow="ellipsis")


def _job_bars() -> Progress:
    def fixed() -> Column:
        return Column(no_wrap=True)

    return Progress(_Description(), BarColumn(bar_width=16, table_column=fixed()), MofNCompleteColumn(table_column=fixed()),
                    TextColumn("{task.fields[left]}", table_column=fixed()), TimeElapsedColumn(table_column=fixed()),
                    console=err_console)


class _CommandBars:
    """The whole command's jobs on top (total, cached, failed, time left from measured job times), each
    evaluation's phases below; a log line every few minutes instead when stderr is not a terminal."""

    def __init__(self, bars: Progress, planned, workers: int):
        from privbench.run.progress import CommandProgress

        interactive = err_console.is_terminal
        log = None if interactive else (lambda line: click.echo(f"privbench: progress: {line}", err=True))
        self.bars = bars
        self.command = CommandProgress(planned, workers, log)
        status = self.command.status()
        self.task = bars.add_task(self._describe(), total=status.total, completed=status.cached, left=status.left(short=True))
        if log is not None:
            log(status.line())

    def _describe(self) -> str:
        status = self.command.status()
        return f"all jobs ({status.cached} cached" + (f", {status.failed} failed" if status.failed else "") + ")"

    def _refresh(self) -> None:
        status = self.command.status()
        self.bars.update(self.task, description=self._describe(), completed=status.total - status.remaining,
                         left=status.left(short=True))

    def finish(self) -> None:
        """The last drawing: done, or how many jobs never ran (they needed a failed one)."""
        status = self.command.status()
        self.bars.update(self.task, left="done" if not status.remaining else f"{status.remaining} not run")

    def interrupted(self) -> str:
        """What an interrupted command kept, and how to go on."""
        from privbench.paths import cache_root

        status = self.command.status()
        return (f"interrupted: {status.cached + status.done} of {status.total} jobs are finished and kept in "
                f"{cache_root() / 'store'} ({status.done} from this run), and every record written so far stays; "
                f"run the same command again to resume: it runs only the {status.remaining + status.failed} left")

    def evaluation(self, label: str, note, owner: str = "", name: str | None = None):
        """One evaluation's callbacks: one bar per phase, one line per failed job (naming the
        submission by `name`, its submission.toml name); `owner` as in the plan's (owner, job) pairs."""
        from privbench.run.evaluate import Progress as EvaluationProgress
        from privbench.run.executor import failure_line

        current: dict[str, int] = {}

        def phase(phase_name: str, total: int, cached: int) -> None:
            current["task"] = self.bars.add_task(f"  {label}{phase_name} ({cached} cached)", total=total, completed=cached,
                                                 left="")

        def job_cached(spec, record) -> None:
            self.command.job_cached(spec, record, owner)
            self._refresh()

        def job_done(outcome) -> None:
            self.bars.advance(current["task"])
            self.command.job_finished(outcome.spec, outcome.result, owner)
            self._refresh()
            if outcome.error:
                self.bars.console.print(f"privbench: job failed: {failure_line(outcome, name)}", markup=False,
                                        highlight=False, soft_wrap=True)

        return EvaluationProgress(phase, job_done, note, job_cached)


def _failed(outcomes, failures: list[str], name: str) -> PrivbenchError:
    """One line for a run whose jobs failed: how many, the first (with its log), and what to do."""
    from privbench.run.executor import advice

    count = len(failures)
    return PrivbenchError(f"{count} job{'s' if count != 1 else ''} failed (first: {failures[0]}); {advice(outcomes, name)}")


def _interrupt(command: _CommandBars | None) -> None:
    click.echo(f"privbench: {command.interrupted() if command else 'interrupted before any job ran'}", err=True)
    raise click.exceptions.Exit(INTERRUPTED)


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
@click.option("--waveforms", is_flag=True, help="Also cache the 16 kHz waveforms (for encoders whose inputs include waveform; "
                                                "evaluate caches them on first need anyway).")
def prepare(corpus: str, root: Path | None, word2vec: Path | None, waveforms: bool) -> None:
    """Read CORPUS, fix its folds, compute and cache its features."""
    protocol = get_protocol()
    adapter = adapter_for(corpus, protocol)
    _check_root(corpus, adapter, root, protocol)
    if adapter.kind == "release":
        from privbench.data.corpora.registry import release_reader
        from privbench.data.corpora.store import resolve_root

        # A wrong or partial root is one line, before any progress bar.
        release_reader(corpus).check_root(resolve_root(adapter, root, protocol))
    bars, progress = _progress()
    with bars:
        prepared = prepare_corpus(corpus, protocol, root, word2vec, progress, waveforms)
    for note in prepared.notes:
        click.echo(f"privbench: note: {note}", err=True)
    table = prepared.corpus.table
    click.echo(
        f"prepared {corpus}: {len(table)} utterances, {prepared.corpus.speakers} speakers, "
        f"modalities {', '.join(m for m in prepared.corpus.modalities if m in prepared.feature_stores)}"
        f"{' (and waveforms)' if 'waveform' in prepared.feature_stores else ''}; "
        f"root {prepared.corpus.root}; content sha256 {prepared.corpus.content_sha256[:12]}, "
        f"split sha256 {prepared.corpus.split_sha256[:12]}"
    )
    if corpus == "synthetic":
        click.echo("note: the synthetic corpus is eSpeak NG speech made by privbench; its numbers say nothing about real emotional speech")


def _check_root(corpus: str, adapter, root: Path | None, protocol) -> None:
    """What `prepare` is pointed at, in one line before anything is read: a corpus name privbench does not
    know (exit 2, with the closest known one), a --root that does not exist, a synthetic --root that holds
    something else (generating into it is said)."""
    from privbench.data.corpora.registry import builtin_names, closest, unknown_corpus
    from privbench.data.prepare import generation_size
    from privbench.data.synthetic.generate import is_generated
    from privbench.errors import CorpusError, CorpusNameError

    from privbench.data.corpora.store import remembered_root
    from privbench.errors import UsageError

    if adapter.kind == "manifest":
        if root is None and corpus not in prepared_names():
            raise CorpusNameError(unknown_corpus(corpus, protocol, prepared_names()))
        close = closest(corpus, builtin_names(protocol))
        if root is not None and not root.expanduser().exists() and close:
            # A typo of a built-in name with a path that is not there: the name is the likelier mistake.
            raise CorpusNameError(f"{corpus!r} is not a corpus privbench knows (did you mean {close}?), and --root {root} "
                                  f"does not exist (built-in corpora: {', '.join(builtin_names(protocol))}; docs/datasets.md)")
        if root is not None and root.is_dir():
            raise CorpusNameError(f"{corpus!r} is not a corpus privbench knows{f' (did you mean {close}?)' if close else ''}, "
                                  f"so it is read as a corpus of your own, whose --root is its manifest TOML; {root} is a "
                                  f"folder (built-in corpora: {', '.join(builtin_names(protocol))}; docs/datasets.md)")
    elif root is not None and not root.expanduser().exists() and adapter.kind == "release":
        raise CorpusError(f"--root {root} does not exist: give the folder of your {corpus} copy (docs/datasets.md)")
    elif root is None and adapter.kind == "release" and remembered_root(corpus) is None and adapter.default_root(protocol) is None:
        raise UsageError(f"prepare {corpus} needs --root the first time: the folder of your {corpus} copy (docs/datasets.md)")
    if adapter.kind == "synthetic" and root is not None:
        folder = root.expanduser()
        if not is_generated(folder):
            if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
                raise CorpusError(f"--root {root} holds no generated synthetic corpus and is not an empty folder: give a new "
                                  "or empty folder to generate one into, or leave out --root (privbench keeps its own copy)")
            click.echo(f"privbench: note: {root} holds no synthetic corpus yet: generating one into it "
                       f"({generation_size(protocol)})", err=True)


@cli.command()
@click.argument("corpus")
@click.option("--root", type=click.Path(path_type=Path), help="Read from here instead of the prepared copy.")
@click.option("--export", "export_path", type=click.Path(path_type=Path, dir_okay=False), help="Write the utterance table as CSV.")
def inspect(corpus: str, root: Path | None, export_path: Path | None) -> None:
    """Folds, speakers, gender and label balance of CORPUS."""
    protocol = get_protocol()
    if root is None:  # the embedded synthetic corpus is made on first use, as evaluate makes it
        ensure_prepared(corpus, protocol, lambda text: click.echo(f"privbench: note: {text}", err=True))
    prepared = load_corpus(corpus, protocol, root)
    summary = fold_summary(prepared.table, protocol.labels.classes, protocol.labels.genders)
    missing = "".join(f"; {stream} not prepared" for stream in prepared.missing_streams())
    view = Table(title=f"{corpus}: {len(prepared.table)} utterances, {prepared.speakers} speakers "
                       f"({', '.join(prepared.streams)}{missing}) — split {prepared.split_sha256[:12]}")
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
        if root is not None and not adapter_for(name, protocol).is_present(root):
            view.add_row(name, "root not found", str(root), "-", "-", "-")
            continue
        if root is not None:
            try:
                corpus = load_corpus(name, protocol)
            except PrivbenchError as error:
                view.add_row(name, f"broken: {error}", str(root), "-", "-", "-")
                continue
            view.add_row(name, "prepared", str(root), str(len(corpus.table)), str(corpus.speakers), ", ".join(corpus.streams))
            continue
        adapter = adapter_for(name, protocol)
        modalities = ", ".join(adapter.rules(protocol, None).modalities) if adapter.kind != "manifest" else "-"
        status = {"synthetic": "not generated", "release": "not prepared (needs --root)"}.get(adapter.kind, "not prepared")
        view.add_row(name, status, "-", "-", "-", modalities)
    out_console.print(view)
    click.echo("prepare one with: privbench prepare CORPUS [--root DIR]  (synthetic needs no root)")


@cli.command()
@click.argument("encoder_dir", type=click.Path(path_type=Path))
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="cpu", show_default=True,
              help="Where to train the encoder for the checks.")
def check(encoder_dir: Path, device: str) -> None:
    """Run the interface's conformance checks on the encoder in ENCODER_DIR."""
    from privbench.encoders.blocks import resolve_device
    from privbench.run.check import run_checks
    from privbench.encoders.submission import read_submission

    protocol = get_protocol()
    submission = read_submission(encoder_dir, protocol)
    click.echo(f"checking {submission.name} ({encoder_dir}) at the smoke budget on a tiny synthetic corpus", err=True)
    results = run_checks(submission, protocol, resolve_device(device), on_result=lambda r: click.echo(r.line()))
    failed = [result for result in results if not result.passed]
    if failed:
        raise PrivbenchError(f"{len(failed)} of {len(results)} checks failed for {submission.name} ({encoder_dir}); "
                             f"first: [{failed[0].setup}] {failed[0].promise}: {failed[0].detail}")
    click.echo(f"all {len(results)} checks passed for {submission.name} (sha256 {submission.sha256[:12]})")


@cli.command()
@click.argument("encoder_dir", type=click.Path(path_type=Path))
@click.option("--corpus", "corpora", multiple=True, default=["synthetic"], show_default=True, help="Repeat for several corpora.")
@click.option("--modality", "modalities", multiple=True, type=click.Choice(["audio", "text", "multimodal"]),
              help="Default: every modality the encoder and the corpus both have.")
@click.option("--task", "tasks", multiple=True, type=click.Choice(["activation", "valence"]), help="Default: both.")
@click.option("--budget", default="quick", show_default=True, help="smoke, quick, standard or paper (protocol.toml).")
@click.option("--executor", "executor_name", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: cores / threads per job).")
@click.option("--address", help="With --executor ray: an existing cluster's address (default: a local Ray instance).")
@click.option("--gpus-per-job", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="With --executor ray and a CUDA device: the share of a GPU each job asks for.")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--results", type=click.Path(path_type=Path), default=None, help="Default: leaderboard/results of the clone.")
def evaluate(encoder_dir: Path, corpora: tuple[str, ...], modalities: tuple[str, ...], tasks: tuple[str, ...], budget: str,
             executor_name: str, workers: int | None, address: str | None, gpus_per_job: float, device: str,
             results: Path | None) -> None:
    """Train, attack and score the encoder in ENCODER_DIR under the protocol; write result records."""
    from privbench.encoders.blocks import resolve_device
    from privbench.data.corpora.table import TASKS
    from privbench.run.evaluate import Request, check_request, planned_jobs
    from privbench.run.evaluate import evaluate as run_evaluation
    from privbench.paths import repo_root
    from privbench.results.report import HEADERS, significance, summary_rows
    from privbench.storage import check_writable_folder

    protocol = get_protocol()
    _budget(protocol, budget)  # usage errors (exit 2) and unusable output folders come before anything runs
    _corpus_names(protocol, corpora)
    results = results if results is not None else repo_root() / "leaderboard" / "results"
    check_writable_folder(results, "--results")
    request = Request(encoder_dir, corpora, modalities, tasks or TASKS, budget, resolve_device(device), results)
    bars = _job_bars()
    note = lambda text: click.echo(f"privbench: note: {text}", err=True)  # noqa: E731
    executor = make_executor(executor_name, workers, address, gpus_per_job if request.device == "cuda" else 0.0)
    command: _CommandBars | None = None
    try:
        for corpus in corpora:
            ensure_prepared(corpus, protocol, note)  # the embedded synthetic corpus is made on first use
        checked = check_request(request, protocol, note)  # refusals come before any progress bar
        name = checked.submission.name
        with bars:
            command = _CommandBars(bars, planned_jobs(checked, request, protocol), executor.workers)
            evaluation = run_evaluation(request, protocol, executor, command.evaluation("", note, name=name), checked)
            command.finish()
    except KeyboardInterrupt:
        _interrupt(command)
    finally:
        executor.close()
    if evaluation.records:
        comparisons = significance(evaluation.records, results, protocol.significance)
        view = Table(title=f"{name}, budget {budget}: mean ± sd over rotations (+/-: significantly "
                           f"better/worse than {protocol.significance.reference_model}, paired t-test, BH; †k: attack inverted "
                           "in k rotations, counted as chance)")
        for header in ("corpus", "modality", "task", *HEADERS, "chance"):
            view.add_column(header, justify="left" if header in ("corpus", "modality", "task") else "right")
        for row in summary_rows(evaluation.records, comparisons):
            view.add_row(*row)
        out_console.print(view)
    for path in evaluation.written:
        click.echo(f"wrote {path}")
    if any(record["synthetic"] for record in evaluation.records):
        click.echo("note: synthetic corpus: these numbers say nothing about real emotional speech")
    if evaluation.failures:
        raise _failed(evaluation.failed, evaluation.failures, name)


@cli.command()
@click.option("--table", "table_choice", required=True, type=click.Choice(["1a", "1b", "2", "3", "lambda", "all"]))
@click.option("--corpus", "corpora", multiple=True, default=["synthetic"], show_default=True, help="Repeat for several corpora.")
@click.option("--budget", default="quick", show_default=True, help="smoke, quick, standard or paper (protocol.toml).")
@click.option("--workers", type=click.IntRange(min=1), help="Local worker processes (default: cores / threads per job).")
@click.option("--device", type=click.Choice(["auto", "cpu", "cuda"]), default="auto", show_default=True)
@click.option("--results", type=click.Path(path_type=Path), default=None, help="Default: leaderboard/results of the clone.")
@click.option("--plan", "plan_only", is_flag=True,
              help="Print the job count and, once this machine has finished jobs of these kinds, a time estimate; run nothing.")
@click.option("--from-records", is_flag=True,
              help="Run nothing and need no corpus: render the tables and findings from the records in --results.")
@click.option("--executor", "executor_name", type=click.Choice(["local", "ray"]), default="local", show_default=True)
@click.option("--address", help="With --executor ray: an existing cluster's address (default: a local Ray instance).")
@click.option("--gpus-per-job", type=click.FloatRange(0, 1), default=0.25, show_default=True,
              help="With --executor ray and a CUDA device: the share of a GPU each job asks for.")
def reproduce(table_choice: str, corpora: tuple[str, ...], budget: str, workers: int | None, device: str,
              results: Path | None, plan_only: bool, from_records: bool, executor_name: str, address: str | None,
              gpus_per_job: float) -> None:
    """Measure the paper's tables on CORPUS and print them beside the published numbers."""
    import time

    from privbench.encoders.blocks import resolve_device
    from privbench.run.executor import LocalExecutor
    from privbench.paths import repo_root
    from privbench.results.reproduce import owned_jobs, plan, reproduce as run_reproduction, request_for, table_ids
    from privbench.storage import check_writable_folder

    protocol = get_protocol()
    _budget(protocol, budget)  # usage errors (exit 2) and unusable output folders come before anything runs
    _corpus_names(protocol, corpora)
    root = repo_root()
    results = results if results is not None else root / "leaderboard" / "results"
    reports = root / "leaderboard" / "reports"
    ids = table_ids(table_choice)
    device = resolve_device(device)
    note = lambda text: click.echo(f"privbench: note: {text}", err=True)  # noqa: E731
    if plan_only:
        from privbench.run.evaluate import check_request
        from privbench.data.prepare import generation_size, needs_generating
        from privbench.run.progress import CommandProgress

        for corpus in corpora:
            if needs_generating(corpus, protocol):
                click.echo(f"{corpus} is not generated yet: reproduce will generate and prepare it first "
                           f"({generation_size(protocol)}), so none of its jobs is cached")
            else:
                load_corpus(corpus, protocol)  # any other corpus must be prepared to be planned
        planned = plan(ids, corpora, protocol, budget)
        requests = [request_for(p, budget, device, results, root / "baselines") for p in planned]
        jobs = owned_jobs(planned, requests, [check_request(request, protocol, planning=True) for request in requests], protocol)
        executor = LocalExecutor(workers)
        status = CommandProgress(jobs, executor.workers).status()
        if not status.remaining:
            estimate = "; nothing left to run"
        elif status.eta_s is None:
            estimate = ("; no time estimate yet: it is made from the times of jobs this machine has finished, and none of "
                        "these kinds has run here (for scale: table 3 at the quick budget takes about 24 minutes on 2 CPU "
                        "cores, README.md)")
        else:
            estimate = (f"; {status.left().replace(' left', '')} with {executor.workers} local workers "
                        "(from this machine's finished jobs' times)")
        click.echo(f"table {table_choice}, budget {budget}, corpora {', '.join(corpora)}: {len(requests)} evaluations, "
                   f"{status.total} jobs, {status.cached} cached{estimate}")
        return

    if not from_records:
        check_writable_folder(results, "--results")
    check_writable_folder(reports, "the reports folder")
    if from_records and not results.is_dir():
        raise UsageError(f"--results {results} is not a folder of result records: give --results DIR")
    bars = _job_bars()
    started = time.perf_counter()
    executor = make_executor(executor_name, workers, address, gpus_per_job if device == "cuda" else 0.0)
    command: dict[str, _CommandBars] = {}

    def on_plan(jobs) -> None:
        command["bars"] = _CommandBars(bars, jobs, executor.workers)

    def progress_for(label: str, name: str):
        return command["bars"].evaluation(f"{label}: ", note, owner=label, name=name)

    try:
        with bars:
            outcome = run_reproduction(ids, corpora, budget, protocol, executor, results, reports,
                                       root / "baselines", device, progress_for, note, on_plan, from_records)
            if "bars" in command:
                command["bars"].finish()
    except KeyboardInterrupt:
        _interrupt(command.get("bars"))
    finally:
        executor.close()
    for text in outcome.tables.values():
        click.echo(text)
    for text in outcome.findings.values():
        click.echo(text)
    for path in outcome.reports:
        click.echo(f"wrote {path}")
    click.echo(f"reproduce finished in {time.perf_counter() - started:.0f} s")
    if outcome.failures:
        raise _failed(outcome.failed, outcome.failures, None)
    if from_records and not outcome.tables:
        raise PrivbenchError(f"nothing to render: {results} holds no record of {', '.join(corpora)} at budget {budget} "
                             f"under this clone's protocol {protocol.version} ({protocol.sha256[:12]})")


@cli.command()
@click.option("--results", "results_dirs", multiple=True, type=click.Path(path_type=Path),
              help="Folders of result records whose stored jobs are kept (repeat; default: leaderboard/results of the clone).")
@click.option("--prune", is_flag=True, help="Delete what no record in --results needs (it can always be made again).")
def cache(results_dirs: tuple[Path, ...], prune: bool) -> None:
    """What the representation store holds, and what no result record needs."""
    from privbench.paths import cache_root, code_sha256, repo_root
    from privbench.records import read_records
    from privbench.run.score_jobs import score_key
    from privbench.scoring.score import SCORING_SECTIONS
    from privbench.store.usage import prune as prune_store, usage

    protocol = get_protocol()
    folders = list(results_dirs) or [repo_root() / "leaderboard" / "results"]
    for folder in folders:
        if not folder.is_dir():
            raise UsageError(f"--results {folder} is not a folder of result records: give --results DIR")
    records = [record for folder in folders for record in read_records(folder)[0]]
    needed = {key for record in records for key in record.get("stored", [])}
    code, scoring = code_sha256("score"), protocol.sections_sha256(SCORING_SECTIONS)
    report = usage(needed, lambda job: score_key(job, code, scoring))
    view = Table(title=f"store at {cache_root() / 'store'}: {len(records)} records in {', '.join(map(str, folders))} "
                       f"name {len(needed)} training jobs")
    for column in ("kind", "artifacts", "size", "needed by no record", "size "):
        view.add_column(column, justify="left" if column == "kind" else "right")
    for kind, (count, size) in report.held.items():
        spare_count, spare_size = report.unneeded.get(kind, (0, 0))
        view.add_row(kind, str(count), _megabytes(size), str(spare_count), _megabytes(spare_size))
    out_console.print(view)
    if prune:
        freed = prune_store(report)
        click.echo(f"pruned {len(report.unneeded_paths)} artifacts, {_megabytes(freed)} freed")
    elif report.unneeded_bytes:
        click.echo(f"{_megabytes(report.unneeded_bytes)} is needed by no record: privbench cache --prune deletes it")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB"


@cli.group()
def leaderboard() -> None:
    """The static leaderboard site and LEADERBOARD.md."""


def _records_folder(results: Path | None, root: Path) -> Path:
    """--results, default the clone's leaderboard/results; a folder that does not exist is a usage error."""
    results = results if results is not None else root / "leaderboard" / "results"
    if not results.is_dir():
        raise UsageError(f"--results {results} is not a folder of result records: give --results DIR "
                         "(the clone's own are in leaderboard/results)")
    return results


@leaderboard.command("build")
@click.option("--results", type=click.Path(path_type=Path), default=None, help="Default: leaderboard/results of the clone.")
@click.option("--out", type=click.Path(path_type=Path), default=None, help="Default: leaderboard/site of the clone.")
@click.option("--markdown", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the board as Markdown to this file. Default: the clone's leaderboard/LEADERBOARD.md, and "
                   "only when building from the clone's own leaderboard/results.")
@click.option("--no-markdown", is_flag=True, help="Write no Markdown board, whatever --results is.")
@click.option("--repository", default=None, help="The repository's web address, linked from every page (default: "
                                                 "GITHUB_SERVER_URL/GITHUB_REPOSITORY in GitHub Actions, else "
                                                 "repository-code in CITATION.cff, else the clone's origin "
                                                 "remote when it is a web address).")
def leaderboard_build(results: Path | None, out: Path | None, markdown: Path | None, no_markdown: bool,
                      repository: str | None) -> None:
    """Render every valid result record into a static site (and LEADERBOARD.md when building the clone's own)."""
    from privbench.results.leaderboard import build, repository_url
    from privbench.paths import repo_root
    from privbench.storage import check_writable_folder

    root = repo_root()
    committed = root / "leaderboard" / "results"
    results = _records_folder(results, root)
    out = out if out is not None else root / "leaderboard" / "site"
    if markdown is None and not no_markdown and results.resolve() == committed.resolve():
        markdown = root / "leaderboard" / "LEADERBOARD.md"  # the committed board, from the committed records only
    if no_markdown:
        markdown = None
    check_writable_folder(out.parent, "--out's folder")
    if markdown is not None:
        check_writable_folder(markdown.parent, "--markdown's folder")
    templates = root / "leaderboard" / "templates"
    if not (templates / "index.html").is_file():
        raise PrivbenchError(f"{templates} holds no leaderboard templates: run privbench inside a privbench clone")
    site = build(results, out, templates, root / "benchmark" / "reference" / "paper_tables.csv", root / "CITATION.cff",
                 markdown, repository=repository if repository is not None else repository_url(root))
    for line in site.refused:
        click.echo(f"privbench: refused record: {line}", err=True)
    for line in site.notes:
        click.echo(f"privbench: note: {line}", err=True)
    board = (f"; wrote {site.markdown}" if site.markdown else "" if no_markdown
             else "; leaderboard/LEADERBOARD.md left as it is (it is made from the clone's own records; --markdown FILE "
                  "writes a board of these)")
    click.echo(f"built {len(site.pages)} pages from {site.records} records into {out}{board}"
               + (f"; {len(site.refused)} invalid records left out" if site.refused else ""))


@leaderboard.command("check")
@click.option("--results", type=click.Path(path_type=Path), default=None, help="Default: leaderboard/results of the clone.")
@click.option("--base", help="A git revision (the pull request's target, e.g. origin/main): also refuse changes to records "
                             "that exist there, and new records under a name another encoder holds there.")
def leaderboard_check(results: Path | None, base: str | None) -> None:
    """Check result records the way a pull request's check does: one line per problem, exit 1 if any."""
    from privbench.results.leaderboard_check import check_results
    from privbench.paths import repo_root, splits_dir

    root = repo_root()
    results = _records_folder(results, root)
    count, problems = check_results(results, get_protocol(), splits_dir(), base, root)
    for line in problems:
        click.echo(f"privbench: {line}", err=True)
    if problems:
        raise PrivbenchError(f"{len(problems)} problems in {results} ({count} valid records read): fix the lines above")
    click.echo(f"{count} records in {results}: all acceptable" + (f" against {base}" if base else ""))


@leaderboard.command("serve")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="The built site (default: leaderboard/site).")
def leaderboard_serve(port: int, out: Path | None) -> None:
    """Serve the built site on 127.0.0.1 for a preview (Ctrl-C stops)."""
    import functools
    import http.server

    from privbench.paths import repo_root

    out = out if out is not None else repo_root() / "leaderboard" / "site"
    if not (out / "index.html").is_file():
        raise PrivbenchError(f"{out} holds no built site: run privbench leaderboard build first")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        click.echo(f"serving {out} at http://127.0.0.1:{server.server_address[1]}/ (Ctrl-C stops)")
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass


def _interrupt_on_sigterm() -> None:
    """`kill` stops a run like Ctrl-C does: finished jobs are kept, workers are stopped."""
    import signal

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    _interrupt_on_sigterm()
    cli(prog_name="privbench")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
