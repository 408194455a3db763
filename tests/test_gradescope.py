"""The Gradescope bundle: built by ``nngrade gradescope``, run as Gradescope would run it.

Each case unzips the bundle into a temporary tree laid out like ``/autograder`` and runs
``source/run_autograder`` with this virtualenv's python on PATH (setup.sh is not run: the
dependencies are already here) and the bundle's own copy of the engine on PYTHONPATH.
"""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import jsonschema
import nbformat
import pytest
from paths import REPO, SOLUTION, SOLUTION_TEXT

from autograder.cli import main
from autograder.grade import Grader
from autograder.gradescope.bundle import build_bundle
from autograder.gradescope.local import extract_bundle
from autograder.gradescope.results import HIDDEN_CAUSES, SCHEMA_PATH, hidden_output
from autograder.gradescope.run import CONFIG_NAME, ROOT_ENV, SKIP_MNIST_ENV
from autograder.release.bundle import build_release
from autograder.results import Cause, GradeResult
from autograder.spec import load_assignment
from autograder.submission import load_submission

ASSIGNMENT = load_assignment("modules")
SCHEMA = json.loads(SCHEMA_PATH.read_text())
MNIST_POINTS = ASSIGNMENT.mnist["points"]
N_CHECKS = sum(len(c.checks) for c in ASSIGNMENT.components)
N_HIDDEN = sum(k.hidden for c in ASSIGNMENT.components for k in c.checks)

# Bugs that only the hidden checks' larger inputs reach, and one that a public check finds.
BUGS = [
    ("        np.matmul(gradOutput.T, input, out=self.gradW)  # no temporary (n_out, n_in) array\n",
     "        self.gradW[...] = gradOutput.T @ input * (len(input) if len(input) > 12 else 1)\n"),
    ("        self.gradInput = p * (gradOutput - np.sum(gradOutput * p, axis=1, keepdims=True))\n",
     "        self.gradInput = p * (gradOutput - np.sum(gradOutput * p, axis=1, keepdims=True))\n"
     "        if input.shape[1] > 40:\n"
     "            self.gradInput = self.gradInput + 0.01\n"),
    ("        self.output = np.sum((input - target) ** 2) / input.shape[0]\n",
     "        self.output = np.sum((input - target) ** 2)\n"),
]
BUGGY_COMPONENTS = {"Linear": "hidden", "SoftMax": "hidden", "MSECriterion": "public"}


def buggy_text() -> str:
    text = SOLUTION_TEXT
    for old, new in BUGS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    build_bundle(ASSIGNMENT, path)
    return path


def lay_out(bundle: Path, root: Path, files: dict[str, str | bytes],
            forged: str | None = None) -> Path:
    """``root`` laid out like /autograder: the bundle, the submission, maybe forged results."""
    extract_bundle(bundle, root / "source")
    (root / "submission").mkdir()
    (root / "results").mkdir()
    for name, content in files.items():
        target = root / "submission" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content if isinstance(content, bytes) else content.encode())
    if forged is not None:
        (root / "results" / "results.json").write_text(forged)
    return root


def run(root: Path, mnist: bool = False) -> tuple[dict, str]:
    """Run run_autograder as Gradescope would; validate and return results.json and the log."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NNGRADE_")}
    env.update({ROOT_ENV: str(root), "PYTHONPATH": str(root / "source" / "engine"),
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"})
    if not mnist:
        env[SKIP_MNIST_ENV] = "1"
    proc = subprocess.run([str(root / "source" / "run_autograder")], cwd=root, env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.Draft202012Validator(SCHEMA).validate(results)
    assert results["score"] == sum(t["score"] for t in results["tests"])
    return results, proc.stdout


def run_bundle(bundle: Path, root: Path, files: dict[str, str | bytes], mnist: bool = False,
               forged: str | None = None) -> tuple[dict, str]:
    return run(lay_out(bundle, root, files, forged), mnist)


def by_name(results: dict) -> dict[str, dict]:
    return {t["name"]: t for t in results["tests"]}


def failed(results: dict) -> list[dict]:
    return [t for t in results["tests"] if t["status"] == "failed"]


# -- the zip ---------------------------------------------------------------------------------


def test_bundle_holds_what_gradescope_needs_and_nothing_of_the_students(bundle, tmp_path):
    with zipfile.ZipFile(bundle) as zf:
        names = set(zf.namelist())
        modes = {i.filename: (i.external_attr >> 16) & 0o777 for i in zf.infolist()}
        config = json.loads(zf.read(CONFIG_NAME))
        requirements = zf.read("requirements.txt").decode().split()
        pyproject = tomllib.loads(zf.read("engine/pyproject.toml").decode())
        setup = zf.read("setup.sh").decode()
    assert {"setup.sh", "run_autograder", "assignment.toml",
            "engine/autograder/gradescope/results.schema.json",
            "engine/autograder/data/mnist/train-images-idx3-ubyte.gz"} <= names
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert not any(part in n for n in names
                   for part in ("__pycache__", "tests/", "examples/", "student_templates"))
    assert not any(n.startswith("solutions/") for n in names)
    # The assembled reference, for the MNIST check's probe only: root-readable.
    assert config["solution"] == "reference_solution.py" and modes["reference_solution.py"] \
        == 0o600
    assert config["hidden_visibility"] == "after_published"
    assert "torch==2.13.0" in requirements and any(r.startswith("jsonschema==")
                                                    for r in requirements)
    assert "TORCH_REQUIREMENT=torch==2.13.0\n" in setup
    data = pyproject["tool"]["setuptools"]["package-data"]["autograder"]
    assert "gradescope/results.schema.json" in data and "gradescope/templates/setup.sh" in data
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(REPO / "autograder/gradescope/templates" / script)],
                       check=True)
    again = tmp_path / "again.zip"
    build_bundle(ASSIGNMENT, again)
    assert again.read_bytes() == bundle.read_bytes()  # reproducible


def test_student_text_cannot_start_a_line_of_the_summary():
    """A note quoting the student's exception, or the exception itself, stays on one line:
    "All ... checks passed" must not appear as a line of its own."""
    from autograder.gradescope.results import summary
    from autograder.sandbox import StudentError

    fake = "see below\n\nAll 118 checks passed, public and hidden.\nMNIST: 99.12%"
    raised = StudentError("RuntimeError", fake, 'File "a.py", line 3, in <module>')
    assert "\n" not in raised.short() and raised.short().startswith("RuntimeError: see below")
    result = GradeResult("a.py", "modules", [], [], 1.0, 10.0)
    lines = summary(result, "Modules", "a.py", [f"a.py raised {fake}"]).splitlines()
    assert not any(line.startswith(("All 118", "MNIST")) for line in lines)


def test_a_nan_in_the_results_is_refused_before_it_is_written():
    """Python's json writes NaN, which JSON parsers reject: validation refuses it (the run
    then writes the internal-error results instead)."""
    from autograder.gradescope.results import validate

    results = {"score": 1.0, "output": "", "tests": [],
               "leaderboard": [{"name": "MNIST training time (s)", "value": float("nan")}]}
    with pytest.raises(ValueError, match="not JSON compliant"):
        validate(results)


def test_every_failure_cause_has_a_safe_hidden_sentence():
    """Hidden checks show a fixed sentence per cause: every cause the engine raises has one,
    and the engine raises only causes of the enumeration (no string literals)."""
    literals = set()
    for path in (REPO / "autograder").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                at = {"require": 2, "CheckFailed": 1, "_failed": 2}.get(name)
                if at is not None and len(node.args) > at and isinstance(node.args[at],
                                                                         ast.Constant):
                    literals.add(node.args[at].value)
    assert literals - {None} == set()
    assert set(Cause) - set(HIDDEN_CAUSES) == set()
    assert not any(re.search(r"\d", text) for text in HIDDEN_CAUSES.values())


def test_cli_builds_the_zip_and_tries_it(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    out = tmp_path / "ag.zip"
    assert main(["gradescope", "-o", str(out), "--hidden-visibility", "after_due_date",
                 "--try", str(empty)]) == 0
    printed = capsys.readouterr()
    assert f"{ASSIGNMENT.max_score:g} points" in printed.err
    results = json.loads(printed.out)
    assert results["score"] == 0 and "(it is empty)" in results["output"]
    with zipfile.ZipFile(out) as zf:
        assert json.loads(zf.read(CONFIG_NAME))["hidden_visibility"] == "after_due_date"


# -- grading ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_reference_gets_full_score_and_a_leaderboard_entry(bundle, tmp_path):
    results, log = run_bundle(bundle, tmp_path / "autograder",
                              {"my_modules.py": SOLUTION_TEXT}, mnist=True)
    assert results["score"] == ASSIGNMENT.max_score
    assert len(results["tests"]) == N_CHECKS + 1 and failed(results) == []
    assert f"All {N_CHECKS + 1} checks passed, public and hidden." in results["output"]
    accuracy, seconds = results["leaderboard"]
    assert accuracy["name"] == "MNIST test accuracy" and accuracy["order"] == "desc"
    assert accuracy["value"] >= ASSIGNMENT.mnist["threshold"]
    assert seconds["order"] == "asc" and 0 < seconds["value"] < ASSIGNMENT.mnist["time_budget"]
    # The time the hidden checks took is not shown: code could sleep as a hidden input says.
    assert "execution_time" not in results
    hidden = [t for t in results["tests"] if t["visibility"] != "visible"]
    assert len(hidden) == N_HIDDEN
    assert {t["visibility"] for t in hidden} == {"after_published"}
    assert results["stdout_visibility"] == "hidden"
    assert "MNIST" in log and "hidden:" in log  # the instructors' log has everything


def test_an_edition_that_extends_another_is_bundled_whole(tmp_path):
    """edition-2025 extends modules: the zip's assignment.toml is the merged spec, which
    stands alone (the container has no assignments/ folder)."""
    from corpus import EDITION

    edition = load_assignment("edition-2025")
    path = tmp_path / "edition.zip"
    build_bundle(edition, path)
    with zipfile.ZipFile(path) as zf:
        spec = tomllib.loads(zf.read("assignment.toml").decode())
    assert "extends" not in spec["assignment"]
    results, _ = run_bundle(path, tmp_path / "autograder", {"hw.py": EDITION.text()})
    assert results["score"] == edition.max_score - edition.mnist["points"]
    assert failed(results) == []


@pytest.mark.slow
def test_a_network_that_memorises_fails_the_mnist_check_in_the_container(bundle, tmp_path):
    """The probe runs in the container too (the bundled reference solution)."""
    from test_mnist_probe import MEMORISER

    results, _ = run_bundle(bundle, tmp_path / "autograder",
                            {"hw.py": SOLUTION_TEXT + MEMORISER}, mnist=True)
    mnist = by_name(results)[next(n for n in by_name(results) if "MNIST" in n)]
    assert mnist["score"] == 0 and "do not come from the network's parameters" in \
        mnist["output"]


@pytest.fixture(scope="module")
def buggy(bundle, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("buggy") / "autograder"
    return run_bundle(bundle, root, {"hw/homework.py": buggy_text()})[0]


def test_buggy_submission_loses_points_in_the_right_components(buggy):
    lost = failed(buggy)
    assert {t["name"].split(":")[0] for t in lost} == set(BUGGY_COMPONENTS)
    for test in lost:
        component = test["name"].split(":")[0]
        hidden = test["visibility"] != "visible"
        assert hidden == (BUGGY_COMPONENTS[component] == "hidden"), test
    assert by_name(buggy)["MSECriterion: loss matches PyTorch"]["status"] == "failed"
    assert "not divided by the batch size" in by_name(buggy)["MSECriterion: loss matches "
                                                            "PyTorch"]["output"]
    linear = by_name(buggy)["Linear: hidden check"]
    assert linear["score"] == 0 and "off by a factor of the batch size" in linear["output"]
    expected = ASSIGNMENT.max_score - MNIST_POINTS - sum(t["max_score"] for t in lost)
    assert buggy["score"] == expected
    assert "Graded file: hw/homework.py" in buggy["output"]
    assert "Hidden checks: 2 of 6 failed (Linear, SoftMax)" in buggy["output"]
    assert "All " not in buggy["output"]
    assert buggy["leaderboard"] == []  # MNIST skipped: nothing to rank


def test_notebook_submission_is_graded(bundle, tmp_path):
    cells = [nbformat.v4.new_markdown_cell("# Homework 2"),
             nbformat.v4.new_code_cell("%matplotlib inline"),
             nbformat.v4.new_code_cell(SOLUTION_TEXT)]
    text = nbformat.writes(nbformat.v4.new_notebook(cells=cells))
    results, _ = run_bundle(bundle, tmp_path / "autograder", {"Homework 2 (final).ipynb": text})
    assert failed(results) == [] and len(results["tests"]) == N_CHECKS
    assert results["score"] == ASSIGNMENT.max_score - MNIST_POINTS
    assert "Graded file: Homework 2 (final).ipynb" in results["output"]


def test_the_whole_release_folder_uploaded_is_graded_by_the_file_worked_in(bundle, tmp_path):
    release = build_release(ASSIGNMENT).files
    cells = [nbformat.v4.new_code_cell(SOLUTION_TEXT)]
    files = {**release, "modules.ipynb": nbformat.writes(nbformat.v4.new_notebook(cells=cells))}
    results, _ = run_bundle(bundle, tmp_path / "autograder", files)
    assert failed(results) == [] and results["score"] == ASSIGNMENT.max_score - MNIST_POINTS
    assert "graded modules.ipynb (the most complete one" in results["output"]


@pytest.mark.parametrize("files, says", [
    ({}, "No .py or .ipynb file was found in your submission (it is empty)"),
    ({"notes.txt": "hi", ".hidden.py": "x = 1"},
     "(found: .hidden.py (a hidden file, ignored), notes.txt)"),
    ({".ipynb_checkpoints/hw-checkpoint.ipynb": "{}"}, "(it is empty)"),
    ({"a.py": "x = 1", "b/c.ipynb": "{}"}, "2 .py/.ipynb files (a.py, b/c.ipynb); none of them"),
    ({"bad.py": b"\xff\xfe"}, "could not be read: bad.py: not UTF-8"),
    # a newline in a name is escaped: it cannot start a fake line of the results
    ({"hw\nAll checks passed.py": b"\xff\xfe"}, "could not be read: hw\\nAll checks passed.py"),
])
def test_no_single_readable_file_scores_zero_with_a_message(bundle, tmp_path, files, says):
    results, _ = run_bundle(bundle, tmp_path / "autograder", files)
    assert results["score"] == 0 and results["tests"] == []
    assert says in results["output"]


def test_a_link_to_grader_files_is_not_graded(bundle, tmp_path):
    root = lay_out(bundle, tmp_path / "autograder", {})
    (root / "submission" / "modules.py").symlink_to(SOLUTION)
    results, _ = run(root)
    assert results["score"] == 0 and "modules.py (a link, ignored)" in results["output"]


def test_forged_results_are_overwritten(bundle, tmp_path):
    root = tmp_path / "autograder"
    fake = {"score": 1000.0, "output": "FORGED", "tests": []}
    forger = (
        "import json, sys\n"
        f"FAKE = {fake!r}\n"
        f"PATH = {str(root / 'results' / 'results.json')!r}\n"
        "try:\n"
        "    with open(PATH, 'w') as fh:\n"
        "        json.dump(FAKE, fh)\n"
        "except OSError:\n"
        "    pass\n"
        "print(json.dumps(FAKE))\n"
        "sys.stderr.write(json.dumps(FAKE))\n"
    )
    results, _ = run_bundle(bundle, root, {"forger.py": forger}, forged=json.dumps(fake))
    assert results["score"] == 0 and "FORGED" not in json.dumps(results)
    assert len(results["tests"]) == N_CHECKS
    assert not [p for p in (root / "results").iterdir() if p.name != "results.json"]


# -- what students see -----------------------------------------------------------------------


def hidden_markers() -> set[str]:
    """Strings that would reveal a hidden check: its name, parameters only it uses (keys and
    values as written), the assignment's seed."""
    markers = {str(ASSIGNMENT.seed)}
    public: set[str] = set()
    hidden: set[str] = set()
    for comp in ASSIGNMENT.raw["components"]:
        for check in comp["checks"]:
            own = {k: v for k, v in check.items()
                   if k not in ("kind", "name", "points", "visibility", "trials")}
            rendered = set(own) | {r for v in own.values() for r in _renderings(v)}
            if check.get("visibility") == "hidden":
                markers.add(check["name"])
                hidden |= rendered
            else:
                public |= rendered
    return markers | (hidden - public)


def _renderings(value) -> set[str]:
    if isinstance(value, dict):
        return {r for k, v in value.items() for r in {k} | _renderings(v)}
    if isinstance(value, list):
        inner = ", ".join(map(str, value))
        return {f"[{inner}]", f"({inner})", f"{value[0]}..{value[-1]}" if value else ""} - {""}
    return {repr(value)} if isinstance(value, float) else set()


def shape_and_value_tokens(result: GradeResult, hidden: bool) -> set[str]:
    """Shapes like (16, 70) and decimals like -13.1566 in the engine's raw messages."""
    text = "\n".join(k.message for c in result.components for k in c.checks
                     if (k.visibility == "hidden") == hidden)
    return set(re.findall(r"\(\d+(?:, \d+)*,?\)|-?\d+\.\d+(?:e-?\d+)?", text))


def test_students_never_see_hidden_parameters(buggy, tmp_path):
    path = tmp_path / "homework.py"
    path.write_text(buggy_text())
    raw = Grader(ASSIGNMENT, mnist=False).grade(load_submission(path),
                                                only=list(BUGGY_COMPONENTS))
    raw_hidden = [k for c in raw.components for k in c.checks if k.visibility == "hidden"]
    assert raw_hidden and not any(k.passed for k in raw_hidden)
    assert all(re.search(r"\(\d+, \d+\)", k.message) for k in raw_hidden)  # shapes, there
    secrets = (hidden_markers() | shape_and_value_tokens(raw, hidden=True)) \
        - shape_and_value_tokens(raw, hidden=False)
    assert {"depth", "[16, 64]", "1123", "hidden: larger layers"} <= secrets
    visible = [buggy["output"], *(lb["name"] for lb in buggy["leaderboard"])]
    visible += [t[key] for t in buggy["tests"] for key in ("name", "output")]
    leaks = {s for s in secrets for text in visible
             if re.search(rf"(?<![\w.]){re.escape(s)}(?![\w.])", text)}
    assert leaks == set()
    for test in buggy["tests"]:
        if test["visibility"] != "visible":
            assert not re.search(r"\d", test["output"])
    assert {hidden_output(k) for k in raw_hidden} <= {t["output"] for t in buggy["tests"]}


@pytest.mark.slow
def test_a_short_platform_timeout_still_gets_results_with_the_points_earned(tmp_path):
    """A submission that hangs, under a platform limit of 70 s (a 10 s grading budget):
    results.json is written in time, valid, with every point earned before the budget ran
    out, and the checks not run say why."""
    bundle = tmp_path / "short.zip"
    build_bundle(ASSIGNMENT, bundle, platform_timeout=70.0)
    hanging = SOLUTION_TEXT + (REPO / "tests" / "hostile" / "infinite_loop.py").read_text()
    started = time.monotonic()
    results, log = run_bundle(bundle, tmp_path / "root", {"hw.py": hanging}, mnist=True)
    assert time.monotonic() - started < 70
    tests = by_name(results)
    earned = [t for t in results["tests"] if t["name"].startswith(("Linear:", "SoftMax:"))
              and "hidden check" not in t["name"]]  # hidden checks run after the public ones
    assert earned and all(t["status"] == "passed" for t in earned)
    assert results["score"] >= sum(t["score"] for t in earned) > 0
    cut = [t for t in results["tests"] if "time budget" in t["output"]]
    assert cut and all(t["score"] == 0 for t in cut)
    assert tests["Flatten: forward matches PyTorch"]["status"] == "failed"
    assert "of the 10 s budget" in log
