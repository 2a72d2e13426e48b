"""`privbench evaluate`: plan the jobs, run what is not finished, select, aggregate, write records.

Two phases per evaluation: the main jobs of every setup (configuration x
rotation x seed), then, with the configuration selected per rotation, the
membership jobs. Finished jobs are read from the cache, so an interrupted
evaluation resumes; a failed job is reported and its setup gets no record,
while every other setup's record is written.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.scoring.aggregate import select, setup_metrics
from privbench.data.corpora.store import Corpus, feature_store_folder, load_corpus
from privbench.data.corpora.table import TASKS
from privbench.errors import PrivbenchError, SetupRefused, SubmissionError
from privbench.run.executor import Executor, JobOutcome
from privbench.encoders.interface import EncoderSpec, batch_streams
from privbench.run.jobs import JobSpec, read_job, write_job
from privbench.run.plan import Setup, main_jobs, membership_jobs
from privbench.data.prepare import ensure_waveforms, needs_generating
from privbench.protocol import Protocol
from privbench.records import build_record, write_record
from privbench.encoders.submission import Submission, load_encoder_class, read_submission


@dataclass
class Request:
    encoder_dir: Path
    corpora: Sequence[str] = ("synthetic",)
    modalities: Sequence[str] = ()  # empty: every modality the encoder and the corpus both have
    tasks: Sequence[str] = TASKS
    budget: str = "quick"
    device: str = "cpu"
    results: Path = Path("leaderboard/results")
    # A variant of the submission (the lambda study): records under `variant_name`,
    # with these configuration values fixed and no search.
    variant_name: str | None = None
    variant_config: dict[str, Any] = field(default_factory=dict)


@dataclass
class Progress:
    """Callbacks for the CLI: a phase starts with its job count; a job is found cached; each job ends; a note."""

    phase: Callable[[str, int, int], None] = lambda name, total, cached: None
    job_done: Callable[[JobOutcome], None] = lambda outcome: None
    note: Callable[[str], None] = lambda text: None
    job_cached: Callable[[JobSpec, dict[str, Any]], None] = lambda spec, record: None


@dataclass
class Evaluation:
    submission: Submission
    written: list[Path] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class NotGenerated:
    """The embedded synthetic corpus before its first use, for planning only: its setups come from
    the protocol, and its jobs cannot be cached yet."""

    name: str
    setups: tuple[str, ...]
    content_sha256: str = "not-generated-yet"
    split_sha256: str = "not-generated-yet"

    @classmethod
    def from_protocol(cls, name: str, protocol: Protocol) -> NotGenerated:
        streams = protocol.corpus(name).modalities
        return cls(name, tuple(streams) + (("multimodal",) if {"audio", "text"} <= set(streams) else ()))

    def missing_streams(self) -> tuple[str, ...]:
        return ()


def _setups(request: Request, submission: Submission, protocol: Protocol, notes: Callable[[str], None],
            planning: bool = False) -> list[tuple[Setup, Corpus]]:
    """Check the request against the corpora and the encoder ("fast checks"), and list the setups.
    `planning`: a synthetic corpus not generated yet is planned from the protocol instead of refused."""
    for task in request.tasks:
        if task not in TASKS:
            raise PrivbenchError(f"unknown task {task!r}: choose {' or '.join(TASKS)}")
    cls = load_encoder_class(submission)
    setups = []
    for name in request.corpora:
        corpus = (NotGenerated.from_protocol(name, protocol) if planning and needs_generating(name, protocol)
                  else load_corpus(name, protocol))
        if request.modalities:
            for modality in request.modalities:
                if modality not in submission.setups():
                    raise SubmissionError(f"{submission.name} takes {', '.join(submission.setups())}, not {modality} "
                                          f"(submission.toml modalities): drop --modality {modality}")
            modalities = list(request.modalities)
        else:
            modalities = [m for m in submission.setups() if m in corpus.setups]
            for stream in corpus.missing_streams():
                notes(f"{name} has no {stream} features (prepare it again with --word2vec FILE): its {stream} setups are skipped")
        for modality in modalities:
            for stream in batch_streams(modality, submission.inputs) if isinstance(corpus, Corpus) else ():
                if stream == "waveform" and not planning:
                    ensure_waveforms(corpus, protocol, notes)  # cached once, when a submission first asks
                feature_store_folder(corpus, stream)  # one line and exit 1 when a stream is missing
            spec = EncoderSpec(modality, request.tasks[0], 1, dict(submission.config), request.device, 0, 1, protocol.training,
                               inputs=submission.inputs)
            try:
                cls(spec)
            except SetupRefused as refusal:
                if request.modalities:
                    raise SetupRefused(f"{submission.name} refuses {modality}: {refusal}") from None
                notes(f"{submission.name} skips {name}/{modality}: {refusal}")
                continue
            except Exception as error:
                raise SubmissionError(f"{submission.folder}: constructing {submission.entry} for {modality} raised "
                                      f"{type(error).__name__}: {error}; run privbench check on it") from None
            setups += [(Setup(name, corpus.content_sha256, corpus.split_sha256, modality, task), corpus) for task in request.tasks]
    if not setups:
        raise PrivbenchError(f"nothing to evaluate: {submission.name} and corpora {', '.join(request.corpora)} share no modality")
    return setups


def _run(jobs: list[JobSpec], executor: Executor, progress: Progress, phase: str,
         failures: list[str]) -> dict[str, dict[str, Any]]:
    """Records of every job (finished ones from the cache), keyed by job key."""
    records, todo = {}, []
    for spec in jobs:
        record = read_job(spec)
        if record is None:
            todo.append(spec)
        else:
            records[spec.key] = record
            progress.job_cached(spec, record)
    progress.phase(phase, len(jobs), len(records))

    def finished(outcome: JobOutcome) -> None:
        if outcome.result is not None:
            records[outcome.spec.key] = write_job(outcome.spec, outcome.result)
        else:
            failures.append(f"job failed: {outcome.spec.describe()}: {outcome.error}")
        progress.job_done(outcome)

    executor.run(todo, finished)
    return records


@dataclass(frozen=True)
class Checked:
    """A request that passed the fast checks: the submission and its setups."""

    submission: Submission
    setups: list[tuple[Setup, Corpus]]


def check_request(request: Request, protocol: Protocol, note: Callable[[str], None] = lambda text: None,
                  planning: bool = False) -> Checked:
    """Everything that can be refused before a job runs: budget, submission, corpora, modalities."""
    protocol.budget(request.budget)
    submission = read_submission(request.encoder_dir, protocol)
    if request.variant_name:
        submission = dataclasses.replace(submission, name=request.variant_name, search={},
                                         display_name=f"{submission.display_name} ({', '.join(f'{k} {v}' for k, v in request.variant_config.items())})",
                                         config={**submission.config, **request.variant_config})
    return Checked(submission, _setups(request, submission, protocol, note, planning))


def planned_jobs(checked: Checked, request: Request, protocol: Protocol) -> list[JobSpec]:
    """Every job the request will run: the main jobs, and the membership jobs with the default
    configuration standing in for the one selection will choose (the same count)."""
    budget = protocol.budget(request.budget)
    jobs = []
    for setup, _ in checked.setups:
        jobs += main_jobs(checked.submission, setup, budget, protocol, request.device)
        default = {rotation: dict(checked.submission.config) for rotation in range(budget.rotations)}
        jobs += membership_jobs(checked.submission, setup, budget, protocol, request.device, default)
    return jobs


def evaluate(request: Request, protocol: Protocol, executor: Executor, progress: Progress | None = None,
             checked: Checked | None = None) -> Evaluation:
    progress = progress or Progress()
    budget = protocol.budget(request.budget)
    checked = checked or check_request(request, protocol, progress.note)
    submission, setups = checked.submission, checked.setups
    evaluation = Evaluation(submission)

    planned = {setup: main_jobs(submission, setup, budget, protocol, request.device) for setup, _ in setups}
    done = _run([job for jobs in planned.values() for job in jobs], executor, progress, "training and attacks", evaluation.failures)
    complete = {setup: [done[job.key] for job in jobs] for setup, jobs in planned.items() if all(job.key in done for job in jobs)}

    membership_plan, selections = {}, {}
    for setup, records in complete.items():
        # Selected once per rotation here; the membership jobs and the record both use it.
        selections[setup] = [select([r for r in records if r.rotation == rotation]) for rotation in range(budget.rotations)]
        chosen = {rotation: config for rotation, (config, _) in enumerate(selections[setup])}
        membership_plan[setup] = membership_jobs(submission, setup, budget, protocol, request.device, chosen)
    done_mi = _run([job for jobs in membership_plan.values() for job in jobs], executor, progress, "membership", evaluation.failures)

    corpora = {setup: corpus for setup, corpus in setups}
    for setup, jobs in membership_plan.items():
        if not all(job.key in done_mi for job in jobs):
            continue
        main, membership = complete[setup], [done_mi[job.key] for job in jobs]
        corpus = corpora[setup]
        summary = setup_metrics(corpus.table, setup.task, main, membership, selections[setup])
        configs = summary["configs"]
        record = build_record(
            encoder={"name": submission.name, "sha256": submission.sha256, "display_name": submission.display_name},
            protocol={"version": protocol.version, "sha256": protocol.sha256, "budget": request.budget},
            corpus={"name": corpus.name, "content_sha256": corpus.content_sha256, "split_sha256": corpus.split_sha256},
            modality=setup.modality, task=setup.task, metrics=summary["rotations"], seeds=budget.seeds,
            inversion_margin=protocol.metrics.inversion_margin, chance_reached=summary["chance_reached"],
            config=configs[0] if all(c == configs[0] for c in configs) else {"per_rotation": configs},
            runtime_s=sum(r.seconds for r in main + membership), device=request.device,
            extra={"submission": submission.metadata(), "synthetic": corpus.name == "synthetic",
                   "jobs": {"main": len(main), "membership": len(membership)},
                   "timings_s": {key: round(sum(r["timings"][key] for r in main + membership), 3)
                                 for key in ("train_s", "embed_s", "attack_s")},
                   "epochs": [r["epochs"] for r in main],
                   "selection": {"chance_reached": summary["chance_reached_rotations"],
                                 "gender_uar": summary["gender_uar_rotations"]}},
        )
        evaluation.written.append(write_record(request.results, record))
        evaluation.records.append(record)
    return evaluation
