"""Throughput of ``nngrade grade-batch`` on this machine, and the similarity threshold's basis.

    .venv/bin/python benchmarks/batch_bench.py              # 8 submissions, with and without MNIST
    .venv/bin/python benchmarks/batch_bench.py -n 20 --no-mnist --jobs 2
    .venv/bin/python benchmarks/batch_bench.py --similarity # the measurement behind THRESHOLD

The generated batch mixes correct submissions (the reference, an independent solution, a
renamed copy), buggy ones (one wrong line, the bundled partial example) and broken ones (a
syntax error, a crash at import), in that rotation.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from batch_independent import _REGION, REGIONS, independent_solution, renamed_copy  # noqa: E402

from autograder.batch import BatchOptions, run_batch  # noqa: E402
from autograder.batch import similarity as sim  # noqa: E402
from autograder.spec import load_assignment  # noqa: E402

sys.path.insert(0, str(REPO / "benchmarks"))
from common import verdict  # noqa: E402

SOLUTION = (REPO / "solutions" / "modules.py").read_text()
MNIST_RATE_TARGET = 12  # submissions per minute with the MNIST check, 2 cores (issue 17)
PARTIAL = (REPO / "examples" / "student_partial.py").read_text()


def _bug(old: str, new: str) -> str:
    assert SOLUTION.count(old) == 1, old
    return SOLUTION.replace(old, new)


KINDS = [
    ("correct", lambda: SOLUTION),
    ("buggy", lambda: _bug("self.gradb[...] = gradOutput.sum(axis=0)",
                           "self.gradb[...] = gradOutput.mean(axis=0)")),
    ("correct", independent_solution),
    ("buggy", lambda: PARTIAL),
    ("correct", lambda: renamed_copy(SOLUTION)),
    ("broken", lambda: SOLUTION.replace("class Linear(Module):", "class Linear(Module)", 1)),
    ("buggy", lambda: _bug("self.output = np.maximum(input, 0)", "self.output = np.abs(input)")),
    ("broken", lambda: "import numpy as np\nimport no_such_module\n" + SOLUTION),
]


def make_batch(directory: Path, n: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    for i in range(n):
        kind, make = KINDS[i % len(KINDS)]
        # A comment makes every file unique, as real submissions are.
        (directory / f"student{i:03d}.py").write_text(make() + f"\n# student {i}\n")
        counts[kind] = counts.get(kind, 0) + 1
    return counts


def bench(n: int, jobs: int, mnist: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "src", Path(tmp) / "out"
        src.mkdir()
        counts = make_batch(src, n)
        started = time.monotonic()
        summary = run_batch(src, out, BatchOptions(jobs=jobs, mnist=mnist),
                            stream=open(os.devnull, "w"))
        seconds = time.monotonic() - started
        statuses = sorted({r.status for r in summary.records})
        print(f"{'with' if mnist else 'without'} MNIST: {n} submissions "
              f"({', '.join(f'{v} {k}' for k, v in counts.items())}) in {seconds:.0f} s "
              f"with --jobs {jobs}: {60 * n / seconds:.1f} submissions/min "
              f"(statuses: {', '.join(statuses)})", flush=True)
        if mnist:
            print(f"  target with MNIST on 2 cores: >= {MNIST_RATE_TARGET} submissions/min: "
                  f"{verdict(60 * n / seconds, MNIST_RATE_TARGET, smaller_is_better=False)}")
        for record in summary.records:
            if record.status not in ("ok", "error"):
                print(f"  {record.key}: {record.status}: {record.message}", flush=True)


def _mix(fraction: float) -> str:
    """The reference's first ``fraction`` of solution regions, then the independent code."""
    copied = int(len(REGIONS) * fraction)
    index = iter(range(len(REGIONS)))

    def fill(match) -> str:
        i = next(index)
        if i < copied:
            return match.group(0)
        return textwrap.indent(textwrap.dedent(REGIONS[i]).strip("\n"), match.group(1)) + "\n"

    return _REGION.sub(fill, SOLUTION)


def measure_similarity() -> None:
    template = sim.assignment_template(load_assignment("modules"))
    codes = {"reference": SOLUTION, "independent": independent_solution(),
             "renamed reference": renamed_copy(SOLUTION),
             "renamed independent": renamed_copy(independent_solution()),
             "partial example": PARTIAL, "75% copied": _mix(0.75), "50% copied": _mix(0.5),
             "25% copied": _mix(0.25)}
    pairs = [("reference", "independent", "independent correct solutions"),
             ("renamed reference", "renamed independent", "independent, both disguised"),
             ("reference", "renamed reference", "renamed-variables copy"),
             ("independent", "renamed independent", "renamed-variables copy"),
             ("reference", "partial example", "copy, with bugs, CNN left out"),
             ("independent", "partial example", "independent vs that copy"),
             ("reference", "75% copied", "3/4 of the regions copied"),
             ("reference", "50% copied", "half copied"),
             ("reference", "25% copied", "a quarter copied")]
    given = sim.Template.of(template)
    prints = {k: sim.fingerprints(c, given) for k, c in codes.items()}
    print(f"K={sim.K} tokens, window W={sim.W}, threshold {sim.THRESHOLD}")
    print(f"{'pair':<62} {'Jaccard':>8} {'contain.':>8}")
    for a, b, what in pairs:
        jaccard, containment, _ = sim.score(prints[a], prints[b])
        flag = "  flagged" if jaccard >= sim.THRESHOLD else ""
        print(f"{what + ': ' + a + ' / ' + b:<62} {jaccard:8.3f} {containment:8.3f}{flag}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=8, help="submissions to generate (default 8)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-mnist", action="store_true", help="only the run without MNIST")
    parser.add_argument("--mnist-only", action="store_true", help="only the run with MNIST")
    parser.add_argument("--similarity", action="store_true",
                        help="print the similarity measurement instead of grading")
    args = parser.parse_args()
    if args.similarity:
        measure_similarity()
        return
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    if not args.mnist_only:
        bench(args.n, args.jobs, mnist=False)
    if not args.no_mnist:
        bench(args.n, args.jobs, mnist=True)


if __name__ == "__main__":
    main()
