"""Which file of a multi-file submission is graded (autograder/choose.py)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from autograder.choose import choose
from autograder.release.bundle import build_release
from autograder.spec import load_assignment

ASSIGNMENT = load_assignment("modules", check_references=False)
NAMES = [name for c in ASSIGNMENT.components for name in c.names]
RELEASE = build_release(ASSIGNMENT).files
STUB = RELEASE["modules.py"]
WORKED = ASSIGNMENT.solution_text()


def notebook(code: str) -> str:
    cells = [nbformat.v4.new_markdown_cell("# Homework"), nbformat.v4.new_code_cell(code)]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def folder(tmp_path: Path, files: dict[str, str]) -> list[Path]:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return [tmp_path / name for name in files if name.endswith((".py", ".ipynb"))]


def chosen(tmp_path: Path, files: dict[str, str], stem: str = "modules") -> tuple[str, str]:
    choice = choose(folder(tmp_path, files), tmp_path, stem, NAMES)
    name = choice.path.relative_to(tmp_path).as_posix() if choice.path else ""
    return name, choice.note


def test_the_whole_release_folder_uploaded_grades_the_notebook_worked_in(tmp_path):
    files = {**RELEASE, "modules.ipynb": notebook(WORKED)}
    name, note = chosen(tmp_path, files)
    assert name == "modules.ipynb"
    tests = sum(name.startswith("tests/") for name in RELEASE)
    assert note == ("graded modules.ipynb (the most complete one: the fewest stubs left); also "
                    f"found: modules.py, {tests} public test file(s) of the release")


def test_a_worked_module_beside_the_untouched_notebook_is_graded(tmp_path):
    assert chosen(tmp_path, {**RELEASE, "modules.py": WORKED})[0] == "modules.py"


def test_a_half_finished_file_beats_the_untouched_stub(tmp_path):
    half = STUB.replace('raise NotImplementedError("write Linear.updateOutput (see its '
                        'docstring)")', "self.output = input @ self.W.T", 1)
    assert half != STUB
    assert chosen(tmp_path, {"modules.py": STUB, "mine.ipynb": notebook(half)},
                  stem="")[0] == "mine.ipynb"


def test_helper_scripts_and_the_release_tests_are_not_graded(tmp_path):
    files = {"homework.py": WORKED, "utils.py": "def load(path):\n    return path\n",
             "tests/Linear.py": RELEASE["tests/Linear.py"]}
    name, note = chosen(tmp_path, files)
    assert name == "homework.py" and "utils.py" in note


def test_named_after_the_assignment_wins(tmp_path):
    name, note = chosen(tmp_path, {"modules.py": STUB, "old_attempt.py": WORKED})
    assert (name, "named after the assignment" in note) == ("modules.py", True)


@pytest.mark.parametrize("files, says", [
    ({"a.py": WORKED, "b.py": WORKED}, "a.py, b.py are equally complete"),
    ({"a.py": "x = 1", "b.ipynb": notebook("y = 2")}, "none of them defines a component"),
    ({"tests/Linear.py": RELEASE["tests/Linear.py"]}, "only the release's public test files"),
])
def test_no_clear_choice_is_left_to_the_student(tmp_path, files, says):
    name, note = chosen(tmp_path, files)
    assert name == "" and says in note


def test_one_file_is_graded_without_a_note(tmp_path):
    assert chosen(tmp_path, {"anything.py": "x = 1"}) == ("anything.py", "")


def test_an_unreadable_candidate_counts_as_empty(tmp_path):
    folder(tmp_path, {"modules.py": WORKED})
    (tmp_path / "bad.ipynb").write_bytes(b"\xff{not json")
    choice = choose([tmp_path / "bad.ipynb", tmp_path / "modules.py"], tmp_path, "", NAMES)
    assert choice.path == tmp_path / "modules.py"
