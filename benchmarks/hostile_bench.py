"""How long each hostile submission takes to grade, MNIST check included (issue 15).

    .venv/bin/python benchmarks/hostile_bench.py            # every attack, one at a time
    .venv/bin/python benchmarks/hostile_bench.py infinite_loop process_swarm

Each attack of tests/hostile/ is appended to the reference solution and graded as
``nngrade grade FILE --json OUT`` would (a new process, the assignment's own time limits).
Prints each submission's wall time, score and budget share, and the worst case against the
target: under 60 s on a 2-core machine (a hang used to cost 242 s: one 20 s timeout per
check plus the MNIST training's own 240 s budget).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, describe_machine, own_session, verdict

HOSTILE = REPO / "tests" / "hostile"
SOLUTION = REPO / "solutions" / "modules.py"
TARGET_WORST = 60.0


def grade(attack: str, directory: Path) -> tuple[float, dict]:
    path = directory / f"{attack}.py"
    path.write_text(SOLUTION.read_text() + "\n\n" + (HOSTILE / f"{attack}.py").read_text())
    out = directory / f"{attack}.json"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "autograder", "grade", str(path), "--json", str(out)],
                   cwd=directory, capture_output=True, check=False, timeout=1200)
    seconds = time.monotonic() - started
    return seconds, json.loads(out.read_text()) if out.exists() else {}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("attacks", nargs="*", help="names in tests/hostile (default: all)")
    args = parser.parse_args()
    own_session()
    attacks = args.attacks or sorted(p.stem for p in HOSTILE.glob("*.py"))
    print(describe_machine())
    print(f"{'submission':<22} {'wall':>7} {'score':>11} {'budget used':>12}")
    worst = 0.0
    with tempfile.TemporaryDirectory(prefix="nngrade-hostile-bench-") as tmp:
        for attack in attacks:
            seconds, data = grade(attack, Path(tmp))
            worst = max(worst, seconds)
            score = f"{data['score']:g}/{data['max_score']:g}" if data else "no result"
            used = f"{data.get('budget_used', 0):.0%}" if data else "-"
            print(f"{attack:<22} {seconds:>6.1f}s {score:>11} {used:>12}", flush=True)
    print(f"worst case {worst:.1f} s (target < {TARGET_WORST:g} s): "
          f"{verdict(worst, TARGET_WORST)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
