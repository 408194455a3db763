"""Grader accuracy on the corpus (tests/corpus): every bug is caught and blamed on the right
component, every correct variant gets full marks, and the diagnoses name the mistake.

The corpus is graded once per session (without MNIST), two submissions at a time; under
pytest-xdist the first worker grades it and the others read its results.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from corpus import MODULES, Bug, Variant
from corpus.modules_bugs import BUGS
from corpus.modules_variants import VARIANTS

from autograder.grade import Grader
from autograder.results import GradeResult
from autograder.spec import load_assignment
from autograder.submission import load_submission

PRECISION_TARGET = 0.7

# Engine problems the corpus found; each is an xfail(strict) until the engine is fixed.
UNDETECTED: dict[str, str] = {}
MISATTRIBUTED: dict[str, str] = {}
MISLEADING: dict[str, str] = {}
MISDIAGNOSED: dict[str, str] = {}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, dict]:
    """Summaries of every corpus entry's grade, by id; computed once per test session."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # shared by all workers of this session
    cache = root / "corpus_grades.json"
    with open(root / "corpus_grades.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not cache.exists():
            cache.write_text(json.dumps(_grade_all(root / "corpus")))
    return json.loads(cache.read_text())


def _grade_all(folder: Path) -> dict[str, dict]:
    folder.mkdir(exist_ok=True)
    assignment = load_assignment("modules")
    started = time.monotonic()

    def grade(entry: Bug | Variant) -> tuple[str, dict]:
        path = folder / f"{entry.id}.py"
        path.write_text(MODULES.build(entry))
        try:
            result = Grader(assignment, mnist=False).grade(load_submission(path))
        except Exception as exc:  # noqa: BLE001 - an engine failure fails this entry only
            return entry.id, {"error": f"{type(exc).__name__}: {exc}"}
        return entry.id, _summary(result)

    # Each grade runs its own worker process: two at a time keep both cores busy.
    with ThreadPoolExecutor(max_workers=2) as pool:
        summaries = dict(pool.map(grade, [*BUGS, *VARIANTS]))
    print(f"\ncorpus: graded {len(summaries)} submissions in "
          f"{time.monotonic() - started:.0f} s")
    return summaries


def _summary(result: GradeResult) -> dict:
    return {"notes": result.notes, "components": {
        c.name: {"score": c.score, "max_score": c.max_score, "found_as": c.found_as,
                 "failed": [[k.name, k.cause, k.message] for k in c.checks if not k.passed]}
        for c in result.components}}


def _summary_of(graded: dict[str, dict], entry_id: str) -> dict:
    summary = graded[entry_id]
    assert "error" not in summary, f"grading failed: {summary['error']}"
    return summary


def _losing(summary: dict) -> list[str]:
    return [name for name, c in summary["components"].items() if c["score"] < c["max_score"]]


def _failures(summary: dict, components: list[str]) -> str:
    """One line per failing check: its name, cause id, first line and likely cause."""
    lines = []
    for name in components:
        for check, cause, message in summary["components"][name]["failed"]:
            text = [ln.strip() for ln in (message or "").splitlines()]
            shown = text[:1] + [ln for ln in text[1:] if ln.startswith("likely cause")]
            lines.append(f"  [{name}] {check}: cause={cause} | {' | '.join(shown)}")
    return "\n".join(lines + [f"  note: {n}" for n in summary["notes"]])


def _matches(bug: Bug, failed: list) -> bool:
    name, cause, message = failed
    return (cause in (bug.causes or ())) or bool(
        bug.message and bug.message in f"{name}\n{message}")


def _expects_diagnosis(bug: Bug) -> bool:
    return bool(bug.causes or bug.message)


def _case(entry: Bug | Variant, problems: dict[str, str]):
    marks = [pytest.mark.xfail(strict=True, reason=problems[entry.id])] \
        if entry.id in problems else []
    return pytest.param(entry, id=entry.id, marks=marks)


# -- the corpus itself (no grading) ----------------------------------------------------------
def test_corpus_size_and_coverage():
    components = {c.name for c in load_assignment("modules").components}
    assert len(BUGS) >= 45 and len(VARIANTS) >= 10
    ids = [e.id for e in (*BUGS, *VARIANTS)]
    assert len(ids) == len(set(ids))
    assert {b.component for b in BUGS} == components, "every component needs a bug"


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.id) for e in (*BUGS, *VARIANTS)])
def test_entry_builds_a_different_valid_module(entry):
    text = MODULES.build(entry)  # asserts every patched text occurs exactly once
    assert all(old != new for old, new in entry.replacements)
    assert text != MODULES.text()
    compile(text, f"{entry.id}.py", "exec")


# -- the grader on the corpus ----------------------------------------------------------------
@pytest.mark.parametrize("bug", [_case(b, {**UNDETECTED, **MISATTRIBUTED}) for b in BUGS])
def test_bug_is_caught_in_its_component_only(graded, bug):
    summary = _summary_of(graded, bug.id)
    losing = _losing(summary)
    assert losing == [bug.component], (
        f"{bug.description}: expected only {bug.component} to lose points, lost: {losing}\n"
        + _failures(summary, losing or [bug.component]))


@pytest.mark.parametrize("bug", [_case(b, {**UNDETECTED, **MISDIAGNOSED})
                                 for b in BUGS if _expects_diagnosis(b)])
def test_bug_diagnosis_names_the_mistake(graded, bug):
    failed = _summary_of(graded, bug.id)["components"][bug.component]["failed"]
    assert any(_matches(bug, f) for f in failed), (
        f"{bug.description}: no failing check says {bug.causes or ''} {bug.message or ''}\n"
        + _failures(graded[bug.id], [bug.component]))


@pytest.mark.parametrize("bug", [_case(b, MISLEADING) for b in BUGS if b.misleading])
def test_bug_diagnosis_is_not_misleading(graded, bug):
    failed = _summary_of(graded, bug.id)["components"][bug.component]["failed"]
    wrong = [f for f in failed if bug.misleading in f"{f[0]}\n{f[2]}"]
    assert not wrong, f"{bug.description}: misdiagnosed as {bug.misleading!r}\n" + _failures(
        graded[bug.id], [bug.component])


@pytest.mark.parametrize("variant", [_case(v, {}) for v in VARIANTS])
def test_correct_variant_gets_full_marks(graded, variant):
    summary = _summary_of(graded, variant.id)
    losing = _losing(summary)
    assert losing == [], f"{variant.description}: lost points\n" + _failures(summary, losing)
    found_as = {n: c["found_as"] for n, c in summary["components"].items() if c["found_as"]}
    assert found_as == variant.found_as


def diagnosis_precision(graded: dict[str, dict]) -> dict[str, float]:
    """Over caught bugs that state an expected diagnosis: the share of bugs where some failing
    check names it, where the first failing check does, and the share of failing checks."""
    bugs = [b for b in BUGS if _expects_diagnosis(b) and "error" not in graded[b.id]
            and graded[b.id]["components"][b.component]["failed"]]
    failed = {b.id: graded[b.id]["components"][b.component]["failed"] for b in bugs}
    checks = [_matches(b, f) for b in bugs for f in failed[b.id]]
    return {
        "bugs": len(bugs),
        "any_check": sum(any(_matches(b, f) for f in failed[b.id]) for b in bugs) / len(bugs),
        "first_check": sum(_matches(b, failed[b.id][0]) for b in bugs) / len(bugs),
        "checks": sum(checks) / len(checks),
    }


def test_diagnosis_precision(graded, capsys):
    p = diagnosis_precision(graded)
    with capsys.disabled():
        print(f"\ndiagnosis precision over {p['bugs']} caught bugs with an expected diagnosis: "
              f"{p['any_check']:.0%} (some failing check), {p['first_check']:.0%} (the first "
              f"failing check), {p['checks']:.0%} of all their failing checks")
    assert p["any_check"] >= PRECISION_TARGET
