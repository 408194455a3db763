"""``nngrade release``: the student bundle, built from the reference solution.

From ``solutions/<name>.py`` (the single source of truth, solutions between
``# BEGIN SOLUTION`` / ``# END SOLUTION`` lines) and the assignment spec it writes:

* ``<name>.py``: the stub module, each solution region replaced by a ``raise``;
* ``<name>.ipynb``: the notebook (per component a description, the stub, a check cell; then
  MNIST training compared with PyTorch);
* ``tests/<Component>.py``: otter-grader test files for the public checks;
* ``README.md``: how to work, check and submit.

It also regenerates the committed copies (``student_templates/<name>.py`` and
``assignments/<name>/<name>.ipynb``) from the same generator, and refuses to write anything
that contains a solution line or a hidden-check parameter.
"""

from autograder.release.bundle import (
    Release,
    build_release,
    committed_files,
    stale_committed,
    write_release,
)
from autograder.release.strip import MarkerError, find_regions, strip_solutions

__all__ = ["MarkerError", "Release", "build_release", "committed_files",
           "find_regions", "stale_committed", "strip_solutions", "write_release"]
