"""`privbench evaluate`: plan the jobs, run what is not finished, select, score, aggregate, write records.

The flow of one evaluation (docs/design.md): the fast checks (corpora,
modalities, the encoder built once per setup, frozen representations read and
checked), then

1. a frozen front end's representations of each corpus (once per corpus);
2. the main training jobs of every setup (configuration x rotation x seed);
3. selection per rotation, from the stored posteriors and fit reports; then
   the membership training jobs with the selected configuration, and the score
   step of the selected main jobs, together;
4. the score step of the membership jobs;
5. per setup: the metrics (seed averaging, MI-LR across the rotations' models)
   and one result record.

Every training job and score step is read from the store when it is there, so
an interrupted evaluation resumes and a change to the scoring code re-scores
without retraining; a failed task is reported and its setup gets no record,
while every other setup's record is written. A record is a pure function of
the stored artifacts (its times and environment are the training's), so
re-creating it from the store gives the same bytes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privbench.data.corpora.store import Corpus, feature_store_folder, load_corpus
from privbench.data.corpora.table import TASKS
from privbench.data.folds import check_evaluable
from privbench.data.prepare import ensure_waveforms, needs_generating
from privbench.encoders.emotion_head import front_end_spec
from privbench.encoders.frozen import FrozenEncoder
from privbench.encoders.interface import EncoderSpec, batch_streams
from privbench.encoders.submission import Submission, load_encoder_class, read_submission, submission_kind
from privbench.errors import PrivbenchError, SetupRefused, SubmissionError
from privbench.paths import code_sha256
from privbench.protocol import Protocol
from privbench.records import build_record, write_record
from privbench.run.executor import Executor, JobOutcome, Task, failure_line
from privbench.run.jobs import JobSpec, read_job, write_job
from privbench.run.plan import Setup, main_jobs, membership_jobs, score_spec
from privbench.run.represent import (RepresentSpec, read_representation, submitted_key, submitted_representations,
                                     write_representation)
from privbench.run.score_jobs import ScoreSpec, read_score, write_score
from privbench.scoring.aggregate import select, setup_metrics


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
    job_cached: Callable[[Task, Any], None] = lambda spec, record: None


@dataclass
class Evaluation:
    submission: Submission
    written: list[Path] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line per failed task (executor.failure_line)
    failed: list[JobOutcome] = field(default_factory=list)  # the failed tasks' outcomes (cause, log)


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


def _construct(submission: Submission, cls, modality: str, request: Request, protocol: Protocol) -> None:
    """Build the encoder (or front end) once for a setup: a refusal or a crash is said before any training."""
    spec = EncoderSpec(modality, request.tasks[0], 1, dict(submission.config), request.device, 0, 1, protocol.training,
                       inputs=submission.inputs)
    try:
        cls(front_end_spec(spec)) if issubclass(cls, FrozenEncoder) else cls(spec)
    except SetupRefused:
        raise
    except PrivbenchError:
        raise
    except Exception as error:
        raise SubmissionError(f"{submission.folder}: constructing {submission.entry} for {modality} raised "
                              f"{type(error).__name__}: {error}; run privbench check on it") from None


def representation_key(submission: Submission, corpus, modality: str, protocol: Protocol, device: str,
                       planning: bool) -> tuple[str, RepresentSpec | None]:
    """The shared h of a setup ("" for an encoder that learns h) and, for a front end, the task that makes it.
    Frozen representations are read and checked here, before any training (not when only planning)."""
    if submission.frozen_representations:
        path = submission.representation_file(corpus.name)
        if planning or not isinstance(corpus, Corpus):
            return submitted_key(path, corpus), None
        return submitted_representations(path, corpus, submission.sha256).key, None
    if not issubclass(load_encoder_class(submission), FrozenEncoder):
        return "", None
    spec = RepresentSpec(str(submission.folder), submission.sha256, protocol.sections_sha256(("features",)), corpus.name,
                         corpus.content_sha256, modality, code_sha256("represent"), device)
    return spec.key, spec


def _setups(request: Request, submission: Submission, protocol: Protocol, notes: Callable[[str], None],
            planning: bool = False) -> list[tuple[Setup, Corpus, RepresentSpec | None]]:
    """Check the request against the corpora and the encoder ("fast checks"), and list the setups with their
    corpus and, for a frozen front end, the task that makes their h.
    `planning`: a synthetic corpus not generated yet is planned from the protocol instead of refused."""
    for task in request.tasks:
        if task not in TASKS:
            raise PrivbenchError(f"unknown task {task!r}: choose {' or '.join(TASKS)}")
    cls = None if submission.frozen_representations else load_encoder_class(submission)
    setups = []
    for name in request.corpora:
        corpus = (NotGenerated.from_protocol(name, protocol) if planning and needs_generating(name, protocol)
                  else load_corpus(name, protocol))
        if isinstance(corpus, Corpus):
            check_evaluable(corpus.table, name, protocol.folds.count, protocol.labels.genders)
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
            if cls is not None:
                for stream in batch_streams(modality, submission.inputs) if isinstance(corpus, Corpus) else ():
                    if stream == "waveform" and not planning:
                        ensure_waveforms(corpus, protocol, notes)  # cached once, when a submission first asks
                    feature_store_folder(corpus, stream)  # one line and exit 1 when a stream is missing
                try:
                    _construct(submission, cls, modality, request, protocol)
                except SetupRefused as refusal:
                    if request.modalities:
                        raise SetupRefused(f"{submission.name} refuses {modality}: {refusal}") from None
                    notes(f"{submission.name} skips {name}/{modality}: {refusal}")
                    continue
            shared, making = representation_key(submission, corpus, modality, protocol, request.device, planning)
            setups += [(Setup(name, corpus.content_sha256, corpus.split_sha256, modality, task, shared), corpus, making)
                       for task in request.tasks]
    if not setups:
        raise PrivbenchError(f"nothing to evaluate: {submission.name} and corpora {', '.join(request.corpora)} share no modality")
    return setups


def _store_io(task: Task):
    """(read, write) of the store for a task's kind: a training job, a score step, or a front end's h."""
    if isinstance(task, JobSpec):
        return read_job, write_job
    if isinstance(task, ScoreSpec):
        return read_score, write_score
    return read_representation, write_representation


def _run(tasks: list[Task], executor: Executor, progress: Progress, phase: str, evaluation: Evaluation) -> dict[str, Any]:
    """The artifact of every task (finished ones from the store), keyed by task key."""
    done, todo = {}, []
    for spec in {task.key: task for task in tasks}.values():  # a task two setups share (a front end's h) runs once
        artifact = _store_io(spec)[0](spec)
        if artifact is None:
            todo.append(spec)
        else:
            done[spec.key] = artifact
            progress.job_cached(spec, artifact)
    if tasks:
        progress.phase(phase, len(tasks), len(done))

    def finished(outcome: JobOutcome) -> None:
        if outcome.result is not None:
            done[outcome.spec.key] = _store_io(outcome.spec)[1](outcome.spec, outcome.result)
        else:
            evaluation.failures.append(f"{'job' if isinstance(outcome.spec, JobSpec) else 'task'} failed: "
                                       + failure_line(outcome, evaluation.submission.name))
            evaluation.failed.append(outcome)
        progress.job_done(outcome)

    executor.run(todo, finished)
    return done


@dataclass(frozen=True)
class Checked:
    """A request that passed the fast checks: the submission, its kind and its setups (with their
    corpus and, for a frozen front end, the task that makes their h)."""

    submission: Submission
    setups: list[tuple[Setup, Corpus, RepresentSpec | None]]
    kind: str = "encoder"


def check_request(request: Request, protocol: Protocol, note: Callable[[str], None] = lambda text: None,
                  planning: bool = False) -> Checked:
    """Everything that can be refused before a job runs: budget, submission, corpora, modalities,
    and frozen representations' files."""
    protocol.budget(request.budget)
    submission = read_submission(request.encoder_dir, protocol)
    if request.variant_name:
        submission = dataclasses.replace(submission, name=request.variant_name, search={},
                                         display_name=f"{submission.display_name} ({', '.join(f'{k} {v}' for k, v in request.variant_config.items())})",
                                         config={**submission.config, **request.variant_config})
    setups = _setups(request, submission, protocol, note, planning)
    return Checked(submission, setups, submission_kind(submission))


def _representing(checked: Checked) -> list[RepresentSpec]:
    return list({making.key: making for _, _, making in checked.setups if making is not None}.values())


def planned_jobs(checked: Checked, request: Request, protocol: Protocol) -> list[Task]:
    """Every task the request will run: a front end's representations, the main jobs, the membership
    jobs and the score steps, with the default configuration standing in for the one selection will
    choose (the same count)."""
    budget = protocol.budget(request.budget)
    tasks: list[Task] = list(_representing(checked))
    for setup, _, _ in checked.setups:
        main = main_jobs(checked.submission, setup, budget, protocol, request.device)
        default = {rotation: dict(checked.submission.config) for rotation in range(budget.rotations)}
        membership = membership_jobs(checked.submission, setup, budget, protocol, request.device, default)
        scored = [job for job in main if job.config == main[0].config] + membership
        tasks += main + membership + [score_spec(job, protocol) for job in scored]
    return tasks


def evaluate(request: Request, protocol: Protocol, executor: Executor, progress: Progress | None = None,
             checked: Checked | None = None) -> Evaluation:
    progress = progress or Progress()
    budget = protocol.budget(request.budget)
    checked = checked or check_request(request, protocol, progress.note)
    submission, setups = checked.submission, [(setup, corpus) for setup, corpus, _ in checked.setups]
    evaluation = Evaluation(submission)

    representing = _representing(checked)
    made = _run(representing, executor, progress, "representations", evaluation)
    ready = [(setup, corpus) for setup, corpus in setups if not setup.representation or setup.representation in made
             or all(making.key != setup.representation for making in representing)]

    planned = {setup: main_jobs(submission, setup, budget, protocol, request.device) for setup, _ in ready}
    done = _run([job for jobs in planned.values() for job in jobs], executor, progress, "training", evaluation)
    complete = {setup: [done[job.key] for job in jobs] for setup, jobs in planned.items() if all(job.key in done for job in jobs)}
    corpora = {setup: corpus for setup, corpus in setups}

    membership_plan, selections, scored_main = {}, {}, {}
    for setup, records in complete.items():
        table = corpora[setup].table
        # Selected once per rotation here; the membership jobs, the score steps and the record all use it.
        selections[setup] = [select([r for r in records if r.rotation == rotation], table, setup.task, protocol)
                             for rotation in range(budget.rotations)]
        chosen = {rotation: config for rotation, (config, _) in enumerate(selections[setup])}
        membership_plan[setup] = membership_jobs(submission, setup, budget, protocol, request.device, chosen)
        scored_main[setup] = [score_spec(job, protocol) for job in planned[setup] if job.config == chosen[job.rotation]]
    second = _run([job for jobs in membership_plan.values() for job in jobs]
                  + [spec for specs in scored_main.values() for spec in specs], executor, progress,
                  "membership training and scoring", evaluation)
    scored_membership = {setup: [score_spec(job, protocol) for job in jobs] for setup, jobs in membership_plan.items()
                         if all(job.key in second for job in jobs)}
    third = _run([spec for specs in scored_membership.values() for spec in specs], executor, progress, "membership scoring",
                 evaluation)
    scores = {**second, **third}

    for setup, specs in scored_membership.items():
        if not all(spec.key in third for spec in specs) or not all(spec.key in second for spec in scored_main[setup]):
            continue
        record = _record(request, protocol, budget, checked, setup, corpora[setup], complete[setup],
                         [second[job.key] for job in membership_plan[setup]],
                         {spec.job.key: scores[spec.key]["metrics"] for spec in scored_main[setup] + specs},
                         selections[setup], made.get(setup.representation))
        evaluation.written.append(write_record(request.results, record))
        evaluation.records.append(record)
    return evaluation


def _record(request: Request, protocol: Protocol, budget, checked: Checked, setup: Setup, corpus: Corpus, main: list,
            membership: list, scores: dict[str, dict[str, Any]], selections, shared) -> dict[str, Any]:
    """One setup's result record, from stored artifacts only (so re-creating it gives the same bytes)."""
    submission = checked.submission
    summary = setup_metrics(corpus.table, setup.task, main, scores, membership, scores, selections, protocol)
    configs = summary["configs"]
    kept = [r for r in main if r.config == configs[r.rotation]] + list(membership)
    newest = max(kept, key=lambda r: r.created)
    sources = {r.fit["chance_source"] for r in kept if r.fit["chance_reached"] is not None}
    represent_s = (shared.meta.get("timings", {}).get("represent_s", 0.0) if shared is not None else 0.0)
    timings = {key: round(sum(r.timings[key] for r in main + list(membership)), 3) for key in ("train_s", "embed_s")}
    if represent_s:
        timings["represent_s"] = round(represent_s, 3)
    return build_record(
        encoder={"name": submission.name, "sha256": submission.sha256, "display_name": submission.display_name},
        protocol={"version": protocol.version, "sha256": protocol.sha256, "budget": request.budget},
        corpus={"name": corpus.name, "content_sha256": corpus.content_sha256, "split_sha256": corpus.split_sha256},
        modality=setup.modality, task=setup.task, metrics=summary["rotations"], pooled=summary["pooled"], seeds=budget.seeds,
        inversion_margin=protocol.metrics.inversion_margin, chance_reached=summary["chance_reached"],
        config=configs[0] if all(c == configs[0] for c in configs) else {"per_rotation": configs},
        runtime_s=sum(timings.values()), environment=newest.environment, created=newest.created,
        extra={"submission": submission.metadata(checked.kind), "synthetic": corpus.name == "synthetic",
               "jobs": {"main": len(main), "membership": len(membership)}, "timings_s": timings,
               "epochs": [r.fit["epochs"] for r in main],
               "chance_reached_source": (None if summary["chance_reached"] is None
                                         else "privbench" if sources == {"privbench"} else "self_reported"),
               "selection": {"chance_reached": summary["chance_reached_rotations"],
                             "gender_uar": summary["gender_uar_rotations"],
                             "membership_lr_surface": summary["membership_lr_surface"]},
               "stored": sorted(r.key for r in main + list(membership))},
    )
