"""``nngrade release``: stubs, notebook, otter tests; no leaks; committed copies in sync."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest

from autograder.cli import main
from autograder.release import (
    MarkerError,
    build_release,
    bundle,
    find_regions,
    stale_committed,
    strip_solutions,
    write_release,
)
from autograder.release.leaks import find_leaks, given_away, solution_lines
from autograder.spec import load_assignment

ASSIGNMENT = load_assignment("modules")
REFERENCE = ASSIGNMENT.solution_text()
GIVEN = {"Module", "Criterion"}  # components without a solution region: they pass as released


@pytest.fixture(scope="module")
def release():
    return build_release(ASSIGNMENT)


# --- stripping ----------------------------------------------------------------------------

SOURCE = '''"""Doc."""

TOP = 1
# BEGIN SOLUTION
TOP = 2
# END SOLUTION


class A:
    def f(self, x):
        """Keep me."""
        y = x
        # BEGIN SOLUTION
        y = y * 2
        if y:
            y += 1
        # END SOLUTION
        return y

    def a_method_with_a_rather_long_name_to_force_wrapping_of_the_raise(self):
        # BEGIN SOLUTION
        return 1
        # END SOLUTION
'''


def test_strip_replaces_regions_and_keeps_the_rest():
    out = strip_solutions(SOURCE)
    assert out.splitlines() == [
        '"""Doc."""', "", "TOP = 1", 'raise NotImplementedError("write this part")', "", "",
        "class A:", "    def f(self, x):", '        """Keep me."""', "        y = x",
        '        raise NotImplementedError("write A.f (see its docstring)")',
        "        return y", "",
        "    def a_method_with_a_rather_long_name_to_force_wrapping_of_the_raise(self):",
        "        raise NotImplementedError(",
        '            "write A.a_method_with_a_rather_long_name_to_force_wrapping_of_the_raise'
        ' (see its docstring)")',
    ]
    compile(out, "stub", "exec")


@pytest.mark.parametrize("text, where", [
    ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n", "f.py:2: .*opened at line 1"),
    ("x = 1\n# END SOLUTION\n", "f.py:2: END SOLUTION without"),
    ("x = 1\n\n  # BEGIN SOLUTION\nx = 2\n", "f.py:3: BEGIN SOLUTION is never closed"),
])
def test_bad_markers_name_the_lines(text, where):
    with pytest.raises(MarkerError, match=where):
        strip_solutions(text, "f.py")


def test_student_module_keeps_the_api_and_no_solution(release):
    stub = release.files["modules.py"]
    assert find_regions(stub) == [] and "BEGIN SOLUTION" not in stub
    assert "Reference solution" not in stub

    def api(text):
        out = {}
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                out[node.name] = ast.get_docstring(node)
        return out

    assert api(stub) == api(REFERENCE)  # every class, method, signature name and docstring
    raises = re.findall(r"^\s*raise NotImplementedError\(", stub, re.M)
    assert len(raises) == len(find_regions(REFERENCE))


@pytest.mark.parametrize("name", ["modules", "extended", "edition-2025"])
def test_the_stub_and_readme_state_the_mnist_checks_time_budget(name):
    """A network too slow for the budget loses the MNIST points: the student reads why."""
    assignment = load_assignment(name, check_references=False)
    files = build_release(assignment).files
    doc = " ".join(ast.get_docstring(ast.parse(files[assignment.solution.stem + ".py"])).split())
    budget, threshold = assignment.mnist["time_budget"], assignment.mnist["threshold"]
    assert f"at most {budget:g} s of training" in doc and f"needs {threshold:.0%} test" in doc
    assert f"within {budget:g} s of training" in " ".join(files["README.md"].split())


@pytest.mark.parametrize("name", ["modules", "extended", "edition-2025"])
def test_the_stub_states_the_rule_its_no_mutation_checks_charge(name):
    """Points only for what the assignment states: a blind round found the classic stub
    silent about in-place edits, which 15 of its components' checks charge."""
    assignment = load_assignment(name, check_references=False)
    charged = [c.name for c in assignment.components
               if any("no_mutation" in check.kind for check in c.checks)]
    stub = build_release(assignment).files[assignment.solution.stem + ".py"]
    doc = " ".join(ast.get_docstring(ast.parse(stub)).split())
    assert charged
    assert re.search(r"Never modify ``input``(,| or) ``gradOutput``", doc)


# --- the bundle ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["modules", "extended", "edition-2025"])
def test_committed_template_and_notebook_match_the_generator(name):
    release = build_release(load_assignment(name))
    stale = stale_committed(release)
    assert not stale, (f"out of date: {', '.join(map(str, stale))}; regenerate with "
                       f"`nngrade release --assignment {name} --out /tmp/bundle` and commit")
    assert find_leaks(release.files, release.assignment.solution_text(),
                      release.assignment) == []


def test_generation_is_deterministic(release):
    assert build_release(ASSIGNMENT).files == release.files


def test_bundle_leaks_no_solution_line_and_no_hidden_check(release):
    assert len(solution_lines(REFERENCE)) > 50  # the comparison has something to compare
    assert find_leaks(release.files, REFERENCE, ASSIGNMENT) == []
    text = "\n".join(release.files.values())
    for comp in ASSIGNMENT.components:
        for check in comp.checks:  # public ones are in the otter tests, hidden ones nowhere
            assert (check.name in text) is not check.hidden, check.name


def test_the_public_seed_needs_the_solution_to_be_found(monkeypatch):
    """The released seed is a hash of the grading seed keyed by the reference solution: trying
    every grading seed without the solution finds nothing (a crc32 of the seed alone gave the
    grading seed back, and with it every public check's inputs)."""
    from autograder.release.public_spec import public_seed

    assignment = load_assignment("modules")
    seed = public_seed(assignment)
    assert seed == public_seed(assignment)  # deterministic
    monkeypatch.setattr(type(assignment), "solution_text", lambda self: "another solution")
    assert public_seed(assignment) != seed


def test_leak_detector_finds_planted_leaks(release):
    solution_line = "self.output = input @ self.W.T"
    assert solution_line in solution_lines(REFERENCE)
    planted = {
        "modules.py": release.files["modules.py"].replace(
            'raise NotImplementedError("write Linear.updateOutput (see its docstring)")',
            solution_line, 1),
        "README.md": "hidden: larger layers\nsizes dims = {batch = [16, 64]}\nseed 1123\n",
    }
    leaks = find_leaks(planted, REFERENCE, ASSIGNMENT)
    assert any(solution_line in leak and leak.startswith("modules.py:") for leak in leaks)
    assert any("'hidden: larger layers'" in leak for leak in leaks)
    assert any("'[16, 64]'" in leak for leak in leaks)
    assert any("'1123'" in leak for leak in leaks)


def test_given_code_that_another_assignment_grades_is_named():
    """The extended track gives Linear, ReLU, ... as working code; modules grades them."""
    extended = build_release(load_assignment("extended", check_references=False))
    assert any("'modules' grades" in w and "Linear" in w and "adam_optimizer" in w
               for w in extended.warnings)
    # modules' own stub gives nothing away; a line or two in common is not a solution
    assert build_release(ASSIGNMENT).warnings == ()
    reference = "class Linear:\n    def f(self):\n        # BEGIN SOLUTION\n" \
                "        self.output = input @ self.W.T\n        self.output += self.b.copy()\n" \
                "        # END SOLUTION\n"
    assert given_away("x = 1\nself.output = input @ self.W.T\n", reference) == []
    assert given_away("self.output = input @ self.W.T\nself.output += self.b.copy()",
                      reference) == ["Linear"]


def test_notebook_layout(release):
    nb = nbformat.reads(release.files["modules.ipynb"], as_version=4)
    ids = [cell.id for cell in nb.cells]
    assert len(ids) == len(set(ids))
    assert all(cell.get("outputs", []) == [] for cell in nb.cells)
    for comp in ASSIGNMENT.components:
        slug = re.sub(r"[^a-z0-9]+", "-", comp.name.lower())
        about, code, check = (nb.cells[ids.index(f"{slug}-{part}")]
                              for part in ("about", "code", "check"))
        assert about.source.startswith(f"### {comp.name}")
        assert f"def {comp.name}" in code.source or f"class {comp.name}" in code.source
        assert code.source in release.files["modules.py"]  # the same stub as the module
        assert check.source.startswith('if __name__ == "__main__":')
        assert f'grader.check("{comp.name}")' in check.source
    linear = nb.cells[ids.index("linear-about")].source
    assert "$$" in linear and "(batch, n_in)" in linear and "`updateOutput`" in linear
    assert ids[-1] == "mnist-compare" and "train_torch" in nb.cells[ids.index(
        "mnist-torch-functions")].source


def test_otter_tests_are_the_public_checks(release):
    for comp in ASSIGNMENT.components:
        source = release.files[f"tests/{comp.name}.py"]
        names = re.findall(r'@test_case\(name=("[^"]*")', source)
        assert [ast.literal_eval(n) for n in names] == [c.name for c in comp.checks
                                                        if not c.hidden]
    otter = pytest.importorskip("otter.test_files")
    parsed = otter.ExceptionTestFile.from_string(release.files["tests/Linear.py"], "Linear.py")
    public = [c for c in ASSIGNMENT.component("Linear").checks if not c.hidden]
    assert parsed.possible == sum(c.points for c in public)


def test_release_command_writes_the_bundle(tmp_path, monkeypatch, capsys):
    def committed_files(r):  # not the repository's copies: the sync test reads those
        return {tmp_path / "committed" / name: r.files[name]
                for name in (r.module_name, r.notebook_name)}

    monkeypatch.setattr(bundle, "committed_files", committed_files)
    assert main(["release", "--assignment", "modules", "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    files = sorted(p.relative_to(tmp_path / "out").as_posix()
                   for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert files == sorted(build_release(ASSIGNMENT).files)
    assert (tmp_path / "committed" / "modules.ipynb").is_file()
    assert "wrote" in out and "updated" in out
    assert main(["release", "--check"]) == 0


# --- the notebook, executed headless ------------------------------------------------------


def execute(path: Path, monkeypatch) -> nbformat.NotebookNode:
    client = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("NNGRADE_QUICK", "1")  # one epoch on a small MNIST subset
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client.NotebookClient(nb, timeout=600, kernel_name="python3",
                          resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs(nb: nbformat.NotebookNode) -> dict[str, str]:
    """Each code cell's output text, by cell id."""
    texts = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            texts[cell.id] = "\n".join(o.get("text", "") or o.get("data", {}).get(
                "text/plain", "") for o in cell.outputs)
    return texts


def paste_reference(nb: nbformat.NotebookNode) -> int:
    """Replace each stub class/function cell by the reference's code for it."""
    lines = REFERENCE.split("\n")
    chunks = {node.name: "\n".join(lines[node.lineno - 1:node.end_lineno])
              for node in ast.parse(REFERENCE).body
              if isinstance(node, (ast.ClassDef, ast.FunctionDef))}
    pasted = 0
    for cell in nb.cells:
        body = ast.parse(cell.source).body if cell.cell_type == "code" else []
        if len(body) == 1 and getattr(body[0], "name", None) in chunks:
            cell.source = chunks[body[0].name]
            pasted += 1
    return pasted


def check_cell_ids(nb: nbformat.NotebookNode) -> dict[str, str]:
    return {comp.name: f"{re.sub(r'[^a-z0-9]+', '-', comp.name.lower())}-check"
            for comp in ASSIGNMENT.components}


@pytest.mark.slow
def test_notebook_with_reference_code_passes_every_check(release, tmp_path, monkeypatch):
    write_release(release, tmp_path)  # with tests/: otter's grader when otter is installed
    path = tmp_path / "modules.ipynb"
    nb = nbformat.read(path, as_version=4)
    definitions = [n for n in ast.parse(REFERENCE).body
                   if isinstance(n, (ast.ClassDef, ast.FunctionDef))]
    assert paste_reference(nb) == len(definitions)
    nbformat.write(nb, path)
    texts = outputs(execute(path, monkeypatch))
    for name, cell_id in check_cell_ids(nb).items():
        text = texts[cell_id]
        assert "All test cases passed" in text or re.search(r"public checks: (\d+)/\1 passed",
                                                            text), (name, text)
        assert "❌" not in text and "FAIL" not in text and "not implemented" not in text
    assert "❌" not in texts["check-all"] and "FAIL" not in texts["check-all"]
    assert "yours (NumPy)" in texts["mnist-compare"] and "PyTorch" in texts["mnist-compare"]
    assert (tmp_path / "mnist_curves.png").stat().st_size > 1000


@pytest.mark.slow
def test_released_notebook_reports_not_implemented_and_runs_to_the_end(tmp_path,
                                                                       monkeypatch):
    path = tmp_path / "modules.ipynb"  # the committed copy, no tests/: the built-in checker
    path.write_bytes((ASSIGNMENT.path.parent / "modules.ipynb").read_bytes())
    nb = execute(path, monkeypatch)
    texts = outputs(nb)
    for name, cell_id in check_cell_ids(nb).items():
        if name in GIVEN:
            assert re.search(r"public checks: (\d+)/\1 passed", texts[cell_id]), texts[cell_id]
        else:
            assert re.search(rf"^{name}\s+not implemented: write {name}\b", texts[cell_id],
                             re.M), texts[cell_id]
    assert "cannot train yet" in texts["mnist-numpy-train"]
    assert "PyTorch" in texts["mnist-compare"]
    assert os.path.getsize(tmp_path / "mnist_curves.png") > 1000
