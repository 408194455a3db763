"""How long grading takes and how much memory it needs: the reference solution, and a
slow-but-correct student Conv2d.

    .venv/bin/python benchmarks/grade_bench.py               # everything (a few minutes)
    .venv/bin/python benchmarks/grade_bench.py --skip-mnist --skip-conv --repeats 5

1. ``nngrade grade <reference> --no-mnist`` as a user runs it (new process, so the
   interpreter start and imports count): target <= 1.5 s. With the MNIST check: target
   <= 6 s. For both, the peak resident memory of the whole process tree (grader and
   workers, sampled every 20 ms): target <= 512 MiB, the smallest Gradescope container.
   The reference cache is warm after the first run, as it is for every submission but a
   class's first.
2. The corpus variant ``conv_scipy_loops`` (Conv2d by scipy.signal in loops over batch and
   channels, as the course first suggests): the time of its Conv2d checks next to the
   reference's, against the per-check timeout and the submission budget.
3. How the CNN scales it: minibatches of ``nngrade compare --arch cnn`` with that Conv2d in the
   worker, next to the reference, extrapolated to one epoch of MNIST.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from common import (
    REPO,
    describe_machine,
    median,
    own_session,
    run_with_peak_memory,
    spread,
    verdict,
)

SOLUTION = REPO / "solutions" / "modules.py"
NNGRADE = [sys.executable, "-m", "autograder"]
NO_MNIST_TARGET, MNIST_TARGET = 1.5, 6.0  # seconds, issue 17
MEMORY_TARGET, MIB = 512, 2**20


def _scipy_loops_submission(directory: Path) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from corpus import MODULES
    from corpus.modules_variants import VARIANTS

    variant = next(v for v in VARIANTS if v.id == "conv_scipy_loops")
    path = directory / "conv_scipy_loops.py"
    path.write_text(MODULES.build(variant))
    return path


def command_runs(path: Path, assignment: str, mnist: bool,
                 repeats: int) -> tuple[list[float], list[int]]:
    """Wall seconds and peak process-tree memory (bytes) of ``repeats`` gradings."""
    args = [*NNGRADE, "grade", str(path), "--assignment", assignment,
            *([] if mnist else ["--no-mnist"])]
    times, peaks = [], []
    for _ in range(repeats):
        seconds, peak, done = run_with_peak_memory(args)
        if done.returncode != 0 or "total" not in done.stdout:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        times.append(seconds)
        peaks.append(peak)
    return times, peaks


def component_seconds(path: Path, name: str) -> tuple[float, float, float]:
    """(seconds of ``name``'s checks, its score, its max) from one in-process grading."""
    from autograder.grade import Grader
    from autograder.spec import load_assignment
    from autograder.submission import load_submission

    marks: list[tuple[str, float]] = []
    grader = Grader(load_assignment("modules"), mnist=False,
                    progress=lambda comp: marks.append((comp, time.perf_counter())))
    result = grader.grade(load_submission(path), only=[name])
    end = time.perf_counter()
    start = next(t for comp, t in marks if comp == name)
    comp = next(c for c in result.components if c.name == name)
    return end - start, comp.score, comp.max_score


def cnn_batch_seconds(path: Path, batches: int) -> float:
    """Worker training time per minibatch of compare's CNN with the submission at ``path``."""
    from autograder.compare import numpy_net
    from autograder.compare.archs import ARCHS, initial_parameters
    from autograder.mnist import load_mnist
    from autograder.spec import load_assignment
    from autograder.submission import load_submission

    arch, assignment = ARCHS["cnn"], load_assignment("modules")
    x, y = load_mnist("train")
    x_test, _ = load_mnist("test")
    n = batches * arch.batch_size
    reply = numpy_net.train(load_submission(path), assignment, arch,
                            initial_parameters(arch.layers, 0), x[:n], y[:n], x_test[:10], 0,
                            1, 1, timeout=3600)
    return reply["epoch_seconds"][0] / batches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-mnist", action="store_true")
    parser.add_argument("--cnn-batches", type=int, default=4)
    parser.add_argument("--assignment", default="modules")
    parser.add_argument("--skip-conv", action="store_true",
                        help="only the reference's time and memory")
    args = parser.parse_args()
    own_session()
    from autograder.sandbox import Limits
    from autograder.spec import load_assignment

    print(describe_machine())
    spec = load_assignment(args.assignment)
    reference = Path(tempfile.mkdtemp()) / f"{spec.name}_reference.py"
    reference.write_text(spec.solution_text())
    runs = [("--no-mnist", False, args.repeats, NO_MNIST_TARGET)]
    if not args.skip_mnist and spec.mnist:
        runs.append(("with MNIST", True, max(1, args.repeats - 1), MNIST_TARGET))
    command_runs(reference, args.assignment, False, 1)  # warms the reference cache
    print()
    for label, mnist, repeats, target in runs:
        times, peaks = command_runs(reference, args.assignment, mnist, repeats)
        mid = median(times)
        print(f"nngrade grade <{spec.name} reference> {label}: {spread(times)} s "
              f"(target <= {target:g} s: {verdict(mid, target)} at the median, "
              f"{verdict(min(times), target)} at best)")
        print(f"  peak memory of grader + workers: {spread([p / MIB for p in peaks], '{:.0f}')}"
              f" MiB (target <= {MEMORY_TARGET} MiB: {verdict(max(peaks) / MIB, MEMORY_TARGET)})")
    if args.skip_conv:
        return
    with tempfile.TemporaryDirectory() as tmp:
        loops = _scipy_loops_submission(Path(tmp))
        loops_total, _ = command_runs(loops, "modules", False, 1)
        print(f"\nslow-but-correct Conv2d (corpus variant conv_scipy_loops):\n"
              f"  nngrade grade --no-mnist: {loops_total[0]:.1f} s")
        component_seconds(SOLUTION, "Flatten")  # imports PyTorch, as graders stay warm
        for label, path in (("reference", SOLUTION), ("scipy loops", loops)):
            seconds, score, max_score = component_seconds(path, "Conv2d")
            print(f"  Conv2d checks, {label}: {seconds:.2f} s, {score:g}/{max_score:g} points")
        print(f"  budget: {spec.check_timeout:g} s per check (all its trials), "
              f"{Limits().submission_timeout:g} s per submission (Limits.submission_timeout)")
        ref_batch = cnn_batch_seconds(SOLUTION, args.cnn_batches)
        loop_batch = cnn_batch_seconds(loops, args.cnn_batches)
        print(f"  compare's CNN, one minibatch of 128: reference {1e3 * ref_batch:.0f} ms, "
              f"scipy loops {1e3 * loop_batch:.0f} ms ({loop_batch / ref_batch:.0f}x); one "
              f"epoch of 60000: {469 * ref_batch / 60:.1f} min vs "
              f"{469 * loop_batch / 60:.0f} min")


if __name__ == "__main__":
    main()
