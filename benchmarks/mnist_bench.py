"""What the fast MNIST check saves, and whether it changes any outcome.

    .venv/bin/python benchmarks/mnist_bench.py                      # reference + corpus
    .venv/bin/python benchmarks/mnist_bench.py --limit 4            # the first four
    .venv/bin/python benchmarks/mnist_bench.py --ids reference,linear_no_bias_grad
    .venv/bin/python benchmarks/mnist_bench.py --blind             # tests/blind instead

Each submission's MNIST check alone (``Grader(...).grade(sub, only=["MNIST"])``) is graded
twice: as the grader does now (parameters in float32, ``[mnist] dtype``; the test
predictions scored at every ``check_every`` checkpoint, training stopped once they clear the
threshold by ``stop_margin``) and as before issue 17 (the submission's own dtype, every
epoch, one prediction at the end). The two runs are interleaved, the first one alternating,
so that load on the machine falls on both alike.

Submissions: the reference solution, then the corpus entries (tests/corpus) that touch a
component the MNIST network uses: bugs in such a component (or in ``Module``, their base
class) and correct variants that rewrite one; with ``--blind``, the blind corpus instead
(tests/blind: twenty modules submissions written from the docstrings only, whose every
component the network uses is as its author wrote it). Printed per submission: pass/fail, test
accuracy and the training seconds (the grader's clock around the training requests,
predictions included) both ways; then how many outcomes agree (target: all) and the median
speed-up of the training. "probe": for a
pass, the accuracy of the reference layers with the network's trained parameters
(autograder/mnist_probe.py), which must be within 2 points of the threshold.
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, describe_machine, own_session, verdict

CORPUS = {"modules": ("MODULES", "modules"), "extended": ("EXTENDED", "extended"),
          "edition-2025": ("EDITION", "edition_2025")}


def _class_at(text: str, index: int) -> str | None:
    """The class whose body holds ``text[index]`` (the last ``class`` line above it)."""
    found = re.findall(r"^class (\w+)", text[:index], flags=re.M)
    return found[-1] if found else None


def corpus_entries(assignment) -> list[tuple[str, str]]:
    """(id, source) of the corpus entries that touch a component the network uses."""
    import importlib

    from autograder import mnist_check

    sys.path.insert(0, str(REPO / "tests"))
    reference_name, prefix = CORPUS[assignment.name]
    corpus = importlib.import_module("corpus")
    reference = getattr(corpus, reference_name)
    needed = mnist_check.needed_names(assignment) | {"Module"}
    bugs = importlib.import_module(f"corpus.{prefix}_bugs").BUGS
    variants = importlib.import_module(f"corpus.{prefix}_variants").VARIANTS
    text = reference.text()
    entries = [(b.id, reference.build(b)) for b in bugs if b.component in needed]
    for v in variants:
        touched = {_class_at(text, text.find(old)) for old, _ in v.replacements}
        if touched & needed:
            entries.append((v.id, reference.build(v)))
    return entries


def grade_mnist(assignment, path: Path, now: bool) -> dict:
    """The MNIST check as graded now (``now``) or before issue 17."""
    from autograder.grade import Grader
    from autograder.submission import load_submission

    if not now:
        assignment = dataclasses.replace(assignment,
                                         mnist={**assignment.mnist, "dtype": "native"})
    started = time.perf_counter()
    result = Grader(assignment, mnist_early_stop=now).grade(load_submission(path),
                                                            only=["MNIST"])
    mnist = result.components[-1]
    return {"passed": mnist.checks[0].passed, "accuracy": mnist.extra.get("accuracy", 0.0),
            "seconds": mnist.extra.get("seconds", 0.0), "wall": time.perf_counter() - started,
            "epochs": mnist.extra.get("epochs_trained"),
            "probe": mnist.extra.get("probe_accuracy"),
            "message": mnist.checks[0].message}


def _probe(run: dict) -> str:
    """The probe's accuracy (the reference layers with the trained parameters), or "-"
    where nothing passed to be probed."""
    return "-" if run["probe"] is None else f"{run['probe']:.2%}"


def _outcome(run: dict) -> str:
    return "pass" if run["passed"] else "FAIL"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assignment", default="modules", choices=sorted(CORPUS))
    parser.add_argument("--ids", default="", help="comma-separated ids (`reference` included)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N submissions")
    parser.add_argument("--blind", action="store_true",
                        help="the blind corpus (tests/blind, modules only) instead of the "
                             "reference and the corpus")
    args = parser.parse_args()
    if args.blind and args.assignment != "modules":
        parser.error("--blind: the blind corpus is written for the modules assignment")
    own_session()
    from autograder import mnist_check
    from autograder.spec import load_assignment

    print(describe_machine())
    assignment = load_assignment(args.assignment)
    cfg = assignment.mnist
    print(f"{assignment.name}: {cfg.get('epochs', 1)} epochs, threshold "
          f"{cfg.get('threshold', 0.97):.1%}, check_every "
          f"{cfg.get('check_every', mnist_check.CHECK_EVERY)}, stop_margin "
          f"{cfg.get('stop_margin', mnist_check.STOP_MARGIN)}, recheck_above "
          f"{cfg.get('recheck_above', mnist_check.RECHECK_ABOVE)}, dtype "
          f"{cfg.get('dtype', mnist_check.DTYPE)}\n")
    if args.blind:
        entries = [(path.stem, path.read_text())
                   for path in sorted((REPO / "tests" / "blind").glob("s[0-9]*.py"))]
    else:
        entries = [("reference", assignment.solution_text()), *corpus_entries(assignment)]
    if args.ids:
        wanted = args.ids.split(",")
        entries = [e for e in entries if e[0] in wanted]
    if args.limit:
        entries = entries[:args.limit]
    directory = Path(tempfile.mkdtemp())
    print(f"{'submission':<34} {'outcome':>9} {'accuracy':>15} {'training s':>13} "
          f"{'epochs':>6} {'speed-up':>8} {'probe':>7}")
    print(f"{'':<34} {'now/before':>9} {'now / before':>15} {'now / before':>13}")
    same, speedups = 0, []
    for i, (ident, source) in enumerate(entries):
        path = directory / f"{ident}.py"
        path.write_text(source)
        order = [True, False] if i % 2 == 0 else [False, True]
        runs = {flag: grade_mnist(assignment, path, flag) for flag in order}
        now, before = runs[True], runs[False]
        same += now["passed"] == before["passed"]
        speedup = before["seconds"] / now["seconds"] if now["seconds"] else float("nan")
        if now["seconds"] and before["seconds"]:
            speedups.append(speedup)
        mark = "" if now["passed"] == before["passed"] else "  OUTCOME DIFFERS"
        epochs = f"{now['epochs']:g}" if now["epochs"] is not None else "-"
        print(f"{ident:<34} {_outcome(now):>4}/{_outcome(before):<4} "
              f"{now['accuracy']:>7.2%}/{before['accuracy']:<7.2%} "
              f"{now['seconds']:>6.1f}/{before['seconds']:<6.1f} {epochs:>6} "
              f"{speedup:>7.2f}x {_probe(now):>7}{mark}", flush=True)
    print(f"\nsame pass/fail outcome on {same} of {len(entries)} (target: {len(entries)} of "
          f"{len(entries)}): {verdict(len(entries) - same, 0)}")
    if speedups:
        print(f"median speed-up of the training {statistics.median(speedups):.2f}x "
              f"(range {min(speedups):.2f}-{max(speedups):.2f}x)")


if __name__ == "__main__":
    main()
