"""Solutions assembled from parts (autograder/solution_source.py): given code written once."""

from __future__ import annotations

import ast

import pytest
from paths import SOLUTION

from autograder.solution_source import SolutionSourceError, assemble, definitions, sources
from autograder.spec import load_assignment

BASE = '''import numpy as np


class A:
    def f(self):
        # BEGIN SOLUTION
        return 1
        # END SOLUTION


X = 3


def g():
    # BEGIN SOLUTION
    return 2
    # END SOLUTION
'''


def write(tmp_path, **files: str):
    for name, text in files.items():
        (tmp_path / f"{name}.py").write_text(text)
    return tmp_path


def test_give_drops_the_markers_include_keeps_them_in_the_order_named(tmp_path):
    write(tmp_path, base=BASE, mine="import numpy as np\n\n\n# nngrade: give base.py g X\n"
          "# nngrade: include base.py A\n\n\nclass B(A):\n    pass\n")
    text = assemble(tmp_path / "mine.py")
    assert text.startswith("import numpy as np\n\n\ndef g():\n    return 2\n\n\nX = 3\n\n\n"
                           "class A:\n    def f(self):\n        # BEGIN SOLUTION\n")
    assert text.endswith("# END SOLUTION\n\n\nclass B(A):\n    pass\n")
    assert "nngrade:" not in text
    ast.parse(text)
    assert sources(tmp_path / "mine.py") == [tmp_path / "mine.py", tmp_path / "base.py"]


@pytest.mark.parametrize(("directive", "error"), [
    ("# nngrade: give base.py Nope", "defines no Nope"),
    ("# nngrade: take base.py A", "expected '# nngrade: give|include"),
    ("# nngrade: give missing.py A", "cannot read solution"),
    ("# nngrade: give mine.py A", "circular solution includes: mine.py -> mine.py"),
])
def test_a_wrong_directive_is_an_error_naming_it(tmp_path, directive, error):
    write(tmp_path, base=BASE, mine=directive + "\n")
    with pytest.raises(SolutionSourceError, match=error.replace("|", r"\|")):
        assemble(tmp_path / "mine.py")


def test_the_extended_reference_takes_its_given_classes_from_the_classic_one():
    extended = load_assignment("extended")
    text = extended.solution_text()
    given = ["Module", "Sequential", "Criterion", "Linear", "ReLU", "LogSoftMax", "Flatten",
             "ClassNLLCriterion", "adam_optimizer"]
    own = extended.solution.read_text()
    assert all(f"class {name}(" not in own and f"def {name}(" not in own for name in given)
    for name, code in zip(given, definitions(SOLUTION.read_text(), given), strict=True):
        solved = "\n".join(line for line in code.split("\n")
                           if line.strip() not in ("# BEGIN SOLUTION", "# END SOLUTION"))
        assert text.count(solved) == 1, name
    assert extended.solution_files() == [extended.solution, SOLUTION]
    assert load_assignment("modules").solution_text() == SOLUTION.read_text()
