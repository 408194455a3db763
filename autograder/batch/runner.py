"""Grade a whole batch: find the submissions, reuse what is already graded, grade the rest in
parallel (threads here, or a dask cluster), keep every result as soon as it is done, then
write the gradebook, the feedback and the report."""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import autograder
from autograder.batch import feedback, gradebook, records, similarity
from autograder.batch.inputs import Entry, discover
from autograder.batch.progress import Progress
from autograder.batch.records import Record
from autograder.batch.task import grade_task, make_task
from autograder.spec import Assignment, SpecError, load_assignment
from autograder.submission import SubmissionError, load_submission

Outcome = dict[str, Any]
Done = Callable[[Entry, Outcome], None]


@dataclass
class BatchOptions:
    assignment: str = "modules"
    jobs: int = 0  # 0: one per core
    mnist: bool = True
    force: bool = False
    seed: int | None = None
    check_timeout: float | None = None
    budget: float | None = None  # seconds per submission (default: the grader's)
    dask: str | None = None  # scheduler address, or "local" for a LocalCluster here
    threshold: float = similarity.THRESHOLD
    template: str | None = None  # for the similarity report; default: derived from solution
    report: bool = True


@dataclass
class BatchSummary:
    out: Path
    records: list[Record]
    graded: int = 0
    reused: int = 0
    pairs: list[similarity.Pair] = field(default_factory=list)
    codes: dict[str, str] = field(default_factory=dict)  # readable submissions' code, by key
    template: str = ""
    seconds: float = 0.0


@dataclass
class _Job:
    entry: Entry
    cache: dict[str, Any]
    task: dict[str, Any]


def run_batch(source: str | Path, out: str | Path, options: BatchOptions | None = None,
              stream: TextIO | None = None) -> BatchSummary:
    """Grade every submission under ``source`` into ``out``; safe to interrupt and rerun."""
    options = options or BatchOptions()
    started = time.monotonic()
    out = Path(out).resolve()
    results_dir, feedback_dir = out / "results", out / "feedback"
    for directory in (results_dir, feedback_dir):
        directory.mkdir(parents=True, exist_ok=True)
    with _locked(out):
        records.clean_temporaries(results_dir)
        records.clean_temporaries(feedback_dir)
        assignment = load_assignment(_assignment_ref(options.assignment))
        stem = assignment.solution.stem if assignment.solution else ""
        entries = discover(source, out / ".work" / "inputs", stem, exclude=out,
                           components=tuple(n for c in assignment.components for n in c.names))
        finished, jobs, codes = _prepare(entries, assignment, options, results_dir)
        reused = sum(r.result is not None for r in finished.values())
        summary = BatchSummary(out, [], reused=reused)
        progress = Progress(len(entries), reused, len(finished) - reused, stream)
        caches = {job.entry.key: job.cache for job in jobs}
        max_score = _max_score(assignment, options)

        def done(entry: Entry, outcome: Outcome) -> None:
            record = _record(entry, outcome, caches[entry.key])
            finished[entry.key] = record
            _store(record, results_dir, feedback_dir, assignment, max_score)
            summary.graded += 1
            progress.update(entry.key, record.status, _detail(record))

        try:
            _execute(jobs, options, done)
        finally:
            progress.close()
        summary.records = [finished[e.key] for e in entries]
        summary.seconds = time.monotonic() - started  # the grading, as the report tells it
        _write_outputs(summary, assignment, options, codes, max_score)
    return summary


def _write_outputs(summary: BatchSummary, assignment: Assignment, options: BatchOptions,
                   codes: dict[str, str], max_score: float) -> None:
    """Everything derived from the records: cheap, so rewritten by every run."""
    out = summary.out
    for record in summary.records:
        if not record.graded or not (out / "feedback" / f"{record.key}.md").exists():
            _store(record, out / "results", out / "feedback", assignment, max_score)
    gradebook.write_csv(summary.records, out / "grades.csv", assignment, options.mnist)
    summary.codes, summary.template = codes, _template(assignment, options)
    summary.pairs = similarity.find_pairs(codes, summary.template,
                                          cache=out / ".work" / "fingerprints")
    if options.report:
        from autograder.batch.html_report import write_report

        write_report(out / "report.html", summary, assignment, options.threshold)


# --- preparing -------------------------------------------------------------------------------


def _prepare(entries: list[Entry], assignment: Assignment, options: BatchOptions,
             results_dir: Path) -> tuple[dict[str, Record], list[_Job], dict[str, str]]:
    """Records for what needs no grading (bad inputs, reused results) and jobs for the rest."""
    finished: dict[str, Record] = {}
    jobs: list[_Job] = []
    codes: dict[str, str] = {}
    base = _cache_base(assignment, options)
    for entry in entries:
        if entry.status:
            finished[entry.key] = records.input_record(entry, entry.status, entry.message)
            continue
        try:
            submission = load_submission(entry.path)
        except SubmissionError as exc:
            message = str(exc).replace(str(entry.path), entry.source)
            finished[entry.key] = records.input_record(entry, "unreadable", message)
            continue
        codes[entry.key] = "\n".join(submission.cells)
        cache = {**base, "sha256": submission.sha256()}
        old = None if options.force else records.load(results_dir, entry.key)
        if old and old.cache == cache and old.status in records.FINAL_STATUSES:
            finished[entry.key] = _refresh(old, entry)
            continue
        task = make_task(entry.path, base["assignment_ref"], base["options"],
                         ship=bool(options.dask))
        jobs.append(_Job(entry, cache, task))
    return finished, jobs, codes


def _assignment_ref(name_or_path: str) -> str:
    """A path is made absolute (tasks may run elsewhere); a bundled name stays a name."""
    path = Path(name_or_path)
    return str(path.resolve()) if path.exists() else name_or_path


def _cache_base(assignment: Assignment, options: BatchOptions) -> dict[str, Any]:
    """What a stored result depends on, besides the submission's own bytes."""
    return {"assignment_sha256": hashlib.sha256(assignment.path.read_bytes()).hexdigest(),
            "assignment_ref": _assignment_ref(options.assignment),
            "grader_version": autograder.__version__,
            "options": {"mnist": options.mnist, "seed": options.seed,
                        "check_timeout": options.check_timeout, "budget": options.budget}}


def _refresh(old: Record, entry: Entry) -> Record:
    """A reused result, with who and where as this run's input says (metadata may change)."""
    old.source, old.students = entry.source, entry.students
    old.notes, old.submitted_at = entry.notes, entry.submitted_at
    if old.result:
        old.result["submission"] = entry.source
    return old


# --- running ---------------------------------------------------------------------------------


def _execute(jobs: list[_Job], options: BatchOptions, done: Done) -> None:
    if not jobs:
        return
    if options.dask:
        _execute_dask(jobs, options.dask, done)
        return
    pool = ThreadPoolExecutor(max_workers=options.jobs or os.cpu_count() or 1,
                              thread_name_prefix="grade")
    try:
        futures = {pool.submit(grade_task, job.task): job.entry for job in jobs}
        for future in as_completed(futures):
            done(futures[future], future.result())
    finally:
        # On Ctrl-C, start nothing new; grades in flight finish in the background.
        pool.shutdown(wait=False, cancel_futures=True)


def _execute_dask(jobs: list[_Job], address: str, done: Done) -> None:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:
        raise SpecError("--dask needs dask.distributed: pip install 'nngrade[dask]'") from exc
    with _dask_client(address, Client) as client:
        futures = {client.submit(grade_task, job.task, pure=False,
                                 key=f"grade-{job.entry.key}-{job.cache['sha256'][:12]}"):
                   job.entry for job in jobs}
        for future in dask_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a lost worker is one failed row
                outcome = {"error": f"dask task failed: {type(exc).__name__}: {exc}",
                           "status": "grader_error"}
            done(futures[future], outcome)


@contextmanager
def _dask_client(address: str, client_class: Any) -> Iterator[Any]:
    if address != "local":
        with client_class(address) as client:
            yield client
        return
    from distributed import LocalCluster

    with LocalCluster(processes=False, n_workers=1, threads_per_worker=os.cpu_count() or 1,
                      dashboard_address=None) as cluster, client_class(cluster) as client:
        yield client


# --- results ---------------------------------------------------------------------------------


def _record(entry: Entry, outcome: Outcome, cache: dict[str, Any]) -> Record:
    record = records.input_record(entry, outcome.get("status", "grader_error"),
                                  outcome.get("message", ""))
    record.graded_at = datetime.now(UTC).isoformat(timespec="seconds")
    record.worker = outcome.get("worker", "")
    if "error" in outcome:
        record.message = outcome["error"]
        record.notes = [*record.notes, *outcome.get("traceback", [])]  # for the grader's devs
        return record
    mismatch = _mismatch(outcome, cache)
    if mismatch:
        record.status, record.message = "grader_error", mismatch
        return record
    record.result = {**outcome["result"], "submission": entry.source}
    record.seconds, record.cache = outcome["seconds"], cache
    return record


def _mismatch(outcome: Outcome, cache: dict[str, Any]) -> str:
    """A remote worker with another grader or assignment would give other grades."""
    if outcome.get("grader_version") != cache["grader_version"]:
        return (f"worker {outcome.get('worker')} runs nngrade {outcome.get('grader_version')}, "
                f"not {cache['grader_version']}")
    if outcome.get("assignment_sha256") != cache["assignment_sha256"]:
        return f"worker {outcome.get('worker')} has a different assignment.toml"
    return ""


def _store(record: Record, results_dir: Path, feedback_dir: Path, assignment: Assignment,
           max_score: float) -> None:
    if record.result:
        max_score = float(record.result["max_score"])
    records.save(record, results_dir, max_score, assignment.name)
    text = feedback.render(record, assignment, max_score)
    records.write_atomic(feedback_dir / f"{record.key}.md", text)


def _max_score(assignment: Assignment, options: BatchOptions) -> float:
    """What a full grade is worth in this run (MNIST points only when MNIST is graded)."""
    if options.mnist and assignment.mnist:
        return assignment.max_score
    return sum(c.points for c in assignment.components)


def _detail(record: Record) -> str:
    if not record.result:
        return record.message[:80]
    return f"{record.score:g}/{record.result['max_score']:g} ({record.seconds:.1f} s)"


def _template(assignment: Assignment, options: BatchOptions) -> str:
    if options.template:
        return Path(options.template).read_text(encoding="utf-8", errors="replace")
    return similarity.assignment_template(assignment)


@contextmanager
def _locked(out: Path) -> Iterator[None]:
    """Two runs writing one DIR would each think the other's results are stale."""
    with open(out / ".lock", "w") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SpecError(f"{out}: another grade-batch is running on this directory") from None
        yield
