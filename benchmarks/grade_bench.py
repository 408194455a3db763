"""How long grading takes: the reference solution, and a slow-but-correct student Conv2d.

    .venv/bin/python benchmarks/grade_bench.py               # everything (about 3 minutes)
    .venv/bin/python benchmarks/grade_bench.py --skip-mnist --repeats 1

1. ``nngrade grade solutions/modules.py --no-mnist`` as a user runs it (new process, so the
   interpreter start and imports count): target < 3 s. With the MNIST check: target < 20 s.
2. The corpus variant ``conv_scipy_loops`` (Conv2d by scipy.signal in loops over batch and
   channels, as the course first suggests): the time of its Conv2d checks next to the
   reference's, against the per-check timeout and the submission budget.
3. How the CNN scales it: minibatches of ``nngrade compare --arch cnn`` with that Conv2d in the
   worker, next to the reference, extrapolated to one epoch of MNIST.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, describe_machine, own_session, spread, verdict

SOLUTION = REPO / "solutions" / "modules.py"
NNGRADE = [sys.executable, "-m", "autograder"]


def _scipy_loops_submission(directory: Path) -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from corpus import MODULES
    from corpus.modules_variants import VARIANTS

    variant = next(v for v in VARIANTS if v.id == "conv_scipy_loops")
    path = directory / "conv_scipy_loops.py"
    path.write_text(MODULES.build(variant))
    return path


def command_seconds(path: Path, mnist: bool, repeats: int) -> list[float]:
    args = [*NNGRADE, "grade", str(path), *([] if mnist else ["--no-mnist"])]
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        done = subprocess.run(args, cwd=REPO, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if done.returncode != 0 or "total" not in done.stdout:
            raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return times


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
    args = parser.parse_args()
    own_session()
    from autograder.spec import load_assignment

    print(describe_machine())
    assignment = load_assignment("modules")
    no_mnist = command_seconds(SOLUTION, False, args.repeats)
    print(f"\nnngrade grade solutions/modules.py --no-mnist: {spread(no_mnist)} s "
          f"(target < 3 s: {verdict(min(no_mnist), 3.0)} at best, "
          f"{verdict(sorted(no_mnist)[len(no_mnist) // 2], 3.0)} at the median)")
    if not args.skip_mnist:
        with_mnist = command_seconds(SOLUTION, True, max(1, args.repeats - 1))
        print(f"nngrade grade solutions/modules.py (with MNIST): {spread(with_mnist)} s "
              f"(target < 20 s: {verdict(sorted(with_mnist)[len(with_mnist) // 2], 20.0)})")

    with tempfile.TemporaryDirectory() as tmp:
        loops = _scipy_loops_submission(Path(tmp))
        loops_total = command_seconds(loops, False, 1)
        print(f"\nslow-but-correct Conv2d (corpus variant conv_scipy_loops):\n"
              f"  nngrade grade --no-mnist: {loops_total[0]:.1f} s")
        component_seconds(SOLUTION, "Flatten")  # imports PyTorch, as graders stay warm
        for label, path in (("reference", SOLUTION), ("scipy loops", loops)):
            seconds, score, max_score = component_seconds(path, "Conv2d")
            print(f"  Conv2d checks, {label}: {seconds:.2f} s, {score:g}/{max_score:g} points")
        print(f"  budget: {assignment.check_timeout:g} s per check (all its trials), "
              "900 s per submission (Limits.submission_timeout)")
        ref_batch = cnn_batch_seconds(SOLUTION, args.cnn_batches)
        loop_batch = cnn_batch_seconds(loops, args.cnn_batches)
        print(f"  compare's CNN, one minibatch of 128: reference {1e3 * ref_batch:.0f} ms, "
              f"scipy loops {1e3 * loop_batch:.0f} ms ({loop_batch / ref_batch:.0f}x); one "
              f"epoch of 60000: {469 * ref_batch / 60:.1f} min vs "
              f"{469 * loop_batch / 60:.0f} min")


if __name__ == "__main__":
    main()
