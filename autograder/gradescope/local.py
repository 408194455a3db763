"""Try a bundle without Gradescope or Docker: a temporary tree laid out like ``/autograder``.

``source`` is the unzipped bundle, ``submission`` the student's files, ``results`` empty.
``run_autograder`` then runs with this interpreter (whose packages stand in for setup.sh's
virtualenv) and with the bundle's own copy of the engine first on ``sys.path``, so that a
file missing from the bundle shows up here rather than on Gradescope.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from autograder.gradescope.run import ROOT_ENV


def extract_bundle(bundle: Path, dest: Path) -> None:
    """Unzip keeping file modes (``zipfile`` alone drops the executable bits)."""
    with zipfile.ZipFile(bundle) as zf:
        for info in zf.infolist():
            target = Path(zf.extract(info, dest))
            mode = (info.external_attr >> 16) & 0o777
            if mode and not info.is_dir():
                target.chmod(mode)


def lay_out(bundle: Path, root: Path, submission: Path | None = None) -> Path:
    """Create ``root/{source,submission,results}``; ``submission`` is a file or a directory."""
    extract_bundle(bundle, root / "source")
    sub_dir = root / "submission"
    if submission is not None and submission.is_dir():
        shutil.copytree(submission, sub_dir)
    else:
        sub_dir.mkdir(parents=True)
        if submission is not None:
            shutil.copy2(submission, sub_dir / submission.name)
    (root / "results").mkdir()
    return root


def run_autograder(root: Path, env: dict[str, str] | None = None,
                   timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``root/source/run_autograder`` as Gradescope would, from ``root``."""
    full_env = {
        **os.environ,
        ROOT_ENV: str(root),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(root / "source" / "engine"),
        # Not the virtualenv setup.sh would create: this interpreter has the packages.
        "NNGRADE_PYTHON": sys.executable,
        **(env or {}),
    }
    return subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
