"""End-to-end behaviour of ``Grader`` and ``nngrade grade`` on whole submissions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pytest
from paths import REPO, SOLUTION, SOLUTION_TEXT

from autograder.grade import Grader
from autograder.results import GradeResult
from autograder.spec import load_assignment
from autograder.submission import load_submission


def grade(path: Path, **kwargs) -> GradeResult:
    return Grader(load_assignment("modules"), mnist=False, **kwargs).grade(load_submission(path))


def patched(tmp_path: Path, name: str, old: str, new: str) -> Path:
    assert SOLUTION_TEXT.count(old) == 1, old
    path = tmp_path / name
    path.write_text(SOLUTION_TEXT.replace(old, new))
    return path


def scores(result: GradeResult) -> dict[str, tuple[float, float]]:
    return {c.name: (c.score, c.max_score) for c in result.components}


def losers(result: GradeResult) -> set[str]:
    return {c.name for c in result.components if c.score < c.max_score}


def stable_json(result: GradeResult) -> dict:
    data = result.to_json()
    data.pop("submission")
    data.pop("seconds")
    data.pop("budget_used")
    for comp in data["components"]:
        comp.pop("seconds", None)
    return data


@pytest.fixture(scope="module")
def reference() -> GradeResult:
    return grade(SOLUTION)


def test_reference_gets_full_marks(reference):
    failed = [(c.name, k.name, k.message) for c in reference.components for k in c.checks
              if not k.passed]
    assert failed == []
    assert reference.score == reference.max_score > 100
    assert reference.notes == []


def test_grading_twice_gives_identical_json(reference):
    assert stable_json(grade(SOLUTION)) == stable_json(reference)


def test_other_seed_draws_other_cases_and_still_passes():
    result = grade(SOLUTION, seed=12345)
    assert result.score == result.max_score


def _notebook_from(source: str) -> nbformat.NotebookNode:
    """Split the module at top-level definitions into cells, with IPython-only lines added."""
    chunks, current = [], []
    for line in source.splitlines(keepends=True):
        if line.startswith(("class ", "def ")) and current:
            chunks.append("".join(current))
            current = []
        current.append(line)
    chunks.append("".join(current))
    cells = [nbformat.v4.new_markdown_cell("# Homework")]
    cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n!pip list > /dev/null"))
    cells += [nbformat.v4.new_code_cell(chunk) for chunk in chunks]
    return nbformat.v4.new_notebook(cells=cells)


def test_notebook_grades_like_the_py_file(tmp_path, reference):
    path = tmp_path / "homework.ipynb"
    nbformat.write(_notebook_from(SOLUTION_TEXT), path)
    result = grade(path)
    assert stable_json(result)["components"] == stable_json(reference)["components"]


def test_a_hanging_notebook_cell_is_skipped_and_the_rest_graded(tmp_path, reference):
    nb = _notebook_from(SOLUTION_TEXT)
    nb.cells.insert(5, nbformat.v4.new_code_cell("import time\nwhile True:\n    time.sleep(1)"))
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    result = grade(path, load_timeout=3.0)
    assert any("slow.ipynb cell 6 ran past the time limit" in note for note in result.notes)
    assert stable_json(result)["components"] == stable_json(reference)["components"]


def test_training_at_the_end_of_a_module_costs_nothing_its_definitions_are_graded(
        tmp_path, reference):
    """Students run their training at import time: the module runs again as its
    definitions only (imports, classes, functions, constants), as if the loop were not
    there, and a note says so."""
    path = tmp_path / "hang.py"
    path.write_text(SOLUTION_TEXT + "\nnet = Sequential()\nwhile True:\n    pass\n")
    result = grade(path, load_timeout=3.0)
    assert stable_json(result)["components"] == stable_json(reference)["components"]
    assert any("top-level code ran past the time limit" in n and "only its definitions" in n
               for n in result.notes), result.notes


def test_definitions_that_hang_themselves_fail_every_component_with_the_reason(tmp_path):
    path = tmp_path / "hang.py"
    path.write_text(SOLUTION_TEXT + "\nclass Slow:\n    while True:\n        pass\n")
    result = grade(path, load_timeout=3.0)
    assert result.score == 0
    assert all("top-level code was skipped" in k.message
               for c in result.components for k in c.checks)


def test_a_notebook_cell_with_a_class_then_a_loop_keeps_the_class(tmp_path, reference):
    """The F7a notebook of the black-box round: Jupyter defines the class before the loop."""
    nb = _notebook_from(SOLUTION_TEXT)
    relu = next(c for c in nb.cells if c.source.startswith("class ReLU("))
    relu.source += "\nimport time\nwhile True:\n    time.sleep(1)\n"
    path = tmp_path / "slow.ipynb"
    nbformat.write(nb, path)
    result = grade(path, load_timeout=2.0)
    assert stable_json(result)["components"] == stable_json(reference)["components"]
    assert any("only its definitions (ReLU) were kept" in n for n in result.notes)


def test_many_slow_notebook_cells_cost_at_most_twice_the_load_timeout_each_pass(
        tmp_path, reference):
    """Twenty cells of experiments used to use up the whole budget (0 points): past
    2 * load_timeout of top-level code, the later cells run as their definitions at once."""
    nb = _notebook_from(SOLUTION_TEXT)
    slow = "import time\ntime.sleep(0.8)\n"
    for position in range(len(nb.cells), 2, -1):
        nb.cells.insert(position, nbformat.v4.new_code_cell(slow))
    path = tmp_path / "experiments.ipynb"
    nbformat.write(nb, path)
    started = time.monotonic()
    result = grade(path, load_timeout=2.0)
    assert stable_json(result)["components"] == stable_json(reference)["components"]
    assert any("ran as its definitions only: the notebook's top-level code had used its 4 s"
               in n for n in result.notes), result.notes
    assert time.monotonic() - started < 60


def test_cells_that_time_out_share_one_allowance_across_restarts(tmp_path, reference):
    """The first notebook round's F7b still scored 0 after the allowance came in: each
    timeout restarted the pass, and each pass had a fresh allowance."""
    nb = _notebook_from(SOLUTION_TEXT)
    for position in range(len(nb.cells), 2, -2):
        nb.cells.insert(position, nbformat.v4.new_code_cell("import time\ntime.sleep(30)\n"))
    path = tmp_path / "experiments.ipynb"
    nbformat.write(nb, path)
    started = time.monotonic()
    result = grade(path, load_timeout=1.5)
    assert stable_json(result)["components"] == stable_json(reference)["components"]
    timed_out = [n for n in result.notes if "ran past the time limit" in n]
    assert 1 <= len(timed_out) <= 3 and any("had used its 3 s" in n for n in result.notes)
    assert time.monotonic() - started < 90


def test_a_missing_component_is_explained_by_its_own_cell(tmp_path):
    """Not by the first cell that failed (the black-box round's F3), and a definition under
    a __main__ guard says that the grader does not run it (C1)."""
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import numpy as np\ndata = np.load('/nowhere/mnist.npz')"),
        nbformat.v4.new_code_cell("class Linear:\n    pass\n1 / 0\nclass ReLU:\n    pass"),
        nbformat.v4.new_code_cell("if __name__ == '__main__':\n    class SoftMax:\n        pass"),
        nbformat.v4.new_code_cell("display(np.zeros(2))\nclass Dropout:\n    pass"),
    ])
    path = tmp_path / "hw.ipynb"
    nbformat.write(nb, path)
    result = Grader(load_assignment("modules"), mnist=False).grade(
        load_submission(path), only=["ReLU", "SoftMax", "Dropout", "ELU"])
    first = {c.name: c.checks[0].message for c in result.components}
    assert "hw.ipynb cell 2 raised ZeroDivisionError" in first["ReLU"]
    assert "only under `if __name__ == \"__main__\":`" in first["SoftMax"]
    assert "not found" not in first["Dropout"]  # display() is Jupyter's: no NameError
    assert first["ELU"] == "not found: the submission does not define 'ELU'"


def test_syntax_error_scores_zero_with_a_message(tmp_path):
    path = tmp_path / "broken.py"
    path.write_text("import numpy as np\nclass Linear:\n    def f(:\n")
    result = grade(path)
    assert result.score == 0
    assert any("SyntaxError" in note for note in result.notes)
    linear = next(c for c in result.components if c.name == "Linear")
    assert all("SyntaxError" in k.message for k in linear.checks)


def test_a_missing_class_costs_only_its_component(tmp_path):
    start = SOLUTION_TEXT.index("class MaxPool2d(Module):")
    end = SOLUTION_TEXT.index("class Flatten(Module):")
    path = tmp_path / "no_pool.py"
    path.write_text(SOLUTION_TEXT[:start] + SOLUTION_TEXT[end:])
    result = grade(path)
    assert losers(result) == {"MaxPool2d"}
    pool = next(c for c in result.components if c.name == "MaxPool2d")
    assert pool.score == 0 and "not found" in pool.checks[0].message


def test_exceptions_loops_and_exits_are_contained(tmp_path):
    text = SOLUTION_TEXT
    for old, new in [
        # ReLU's backward never returns; ELU's forward raises; SoftPlus's kills its process.
        ("        self.gradInput = gradOutput * (input > 0)\n",
         "        while True:\n            pass\n"),
        ("        self.output = np.where(input > 0, input, negative_part)\n",
         "        raise ValueError('half done')\n"),
        ("        self.output = np.logaddexp(0, input)\n",
         "        import os\n        os._exit(3)\n"),
    ]:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "hostile_lite.py"
    path.write_text(text)
    result = grade(path, check_timeout=2.0)
    assert losers(result) == {"ReLU", "ELU", "SoftPlus"}
    messages = {c.name: " ".join(k.message for k in c.checks if not k.passed)
                for c in result.components}
    assert "timed out" in messages["ReLU"]
    assert "ValueError: half done" in messages["ELU"]
    assert "exited with status 3" in messages["SoftPlus"]


def test_alias_names_are_recognised_and_reported(tmp_path):
    text = SOLUTION_TEXT.replace("class SoftMax(Module):", "class Softmax(Module):")
    path = tmp_path / "alias.py"
    path.write_text(text)
    result = grade(path)
    softmax = next(c for c in result.components if c.name == "SoftMax")
    assert softmax.found_as == "Softmax" and softmax.score == softmax.max_score


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "autograder", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=600)


def test_cli_usage_errors_exit_nonzero_with_a_message(tmp_path):
    missing = run_cli("grade", str(tmp_path / "nope.py"), "--no-mnist")
    assert missing.returncode == 2 and "nope.py" in missing.stderr
    bad_nb = tmp_path / "bad.ipynb"
    bad_nb.write_text("{not json")
    assert run_cli("grade", str(bad_nb)).returncode == 2
    unknown = run_cli("grade", str(SOLUTION), "--assignment", "nosuch")
    assert unknown.returncode == 2 and "unknown assignment" in unknown.stderr
    assert run_cli("--help").returncode == 0


def test_the_json_is_written_when_stdout_is_closed_early(tmp_path):
    """``nngrade grade ... | head``: the reader goes away before the table is printed."""
    out = tmp_path / "out.json"
    read_end, write_end = os.pipe()
    os.close(read_end)  # every write to stdout fails with EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "autograder", "grade", str(SOLUTION),
                               "--no-mnist", "--json", str(out), "-v"], stdout=write_end,
                              stderr=subprocess.PIPE, cwd=REPO, timeout=600, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 0
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"]


@pytest.mark.slow
def test_reference_with_mnist_via_cli(tmp_path):
    out = tmp_path / "out.json"
    proc = run_cli("grade", str(SOLUTION), "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    data = json.loads(out.read_text())
    assert data["score"] == data["max_score"]
    mnist = next(c for c in data["components"] if c["name"] == "MNIST")
    assert mnist["accuracy"] >= mnist["threshold"] == 0.97
    assert set(mnist) >= {"name", "score", "max_score", "checks", "accuracy", "threshold",
                          "seconds"}
    check = data["components"][0]["checks"][0]
    # lossless: visibility always, the cause of a failed check too
    assert set(check) == {"name", "passed", "score", "max_score", "message", "visibility"}
    assert "MNIST" in proc.stdout and "total" in proc.stdout


@pytest.mark.slow
def test_mnist_names_the_broken_component(tmp_path):
    path = patched(tmp_path, "bad_linear.py", "        self.gradInput = gradOutput @ self.W\n",
                   "        self.gradInput = -(gradOutput @ self.W)\n")
    result = Grader(load_assignment("modules")).grade(load_submission(path))
    mnist = result.components[-1]
    assert mnist.name == "MNIST" and mnist.score == 0
    assert "Linear" in mnist.checks[0].message


@pytest.mark.parametrize("parallel", [True, False])
def test_mnist_trains_beside_the_checks_in_a_second_worker(monkeypatch, parallel):
    """With ``parallel_mnist`` the network trains in a worker of its own (two BLAS threads)
    started beside the checks' worker; without it, in the checks' worker afterwards."""
    import dataclasses

    import autograder.grade as grade_module

    started, closed = [], []

    class CountingWorker(grade_module.Worker):
        def start(self):
            super().start()
            started.append(self.limits.threads)

        def close(self):
            closed.append(self.limits.threads)
            super().close()

    monkeypatch.setattr(grade_module, "Worker", CountingWorker)
    assignment = load_assignment("modules")
    # A training budget of a few batches: this test is about where training runs.
    quick = dataclasses.replace(assignment, mnist={**assignment.mnist, "time_budget": 0.5})
    result = Grader(quick, parallel_mnist=parallel).grade(load_submission(SOLUTION),
                                                          only=["ReLU", "MNIST"])
    assert [c.name for c in result.components] == ["ReLU", "MNIST"]
    assert result.components[0].score == result.components[0].max_score
    mnist = result.components[1]
    assert mnist.checks[0].message.startswith("test accuracy")  # trained, just not enough
    assert mnist.extra["seconds"] > 0
    beside = parallel and (os.cpu_count() or 1) >= 2
    # one BLAS thread each: a second one beside the checks' worker would spin against it
    assert started == ([1, 1] if beside else [1])
    assert sorted(closed) == sorted(started)


def test_a_single_named_worker_user_trains_after_the_checks():
    """One named user serves one worker at a time: no second worker for the training."""
    from autograder.sandbox import Limits

    assignment = load_assignment("modules")
    assert not Grader(assignment, limits=Limits(user="nobody"))._can_train_beside()
    assert not Grader(assignment, parallel_mnist=False)._can_train_beside()
    assert Grader(assignment)._can_train_beside() == ((os.cpu_count() or 1) >= 2)


@pytest.mark.parametrize("split", [True, False])
def test_without_mnist_the_checks_are_split_over_two_workers_public_phase_first(
        monkeypatch, split):
    """Two workers share the checks (two cores); results keep the spec's order, and no
    hidden check starts before every public check of both workers has ended."""
    import autograder.grade as grade_module

    started, phases = [], []

    class CountingWorker(grade_module.Worker):
        def start(self):
            super().start()
            started.append(self)

    real_run_check = grade_module.CheckRunner.run_check

    def recording(self, check, name, *seen):
        phases.append(check.visibility)
        return real_run_check(self, check, name, *seen)

    monkeypatch.setattr(grade_module, "Worker", CountingWorker)
    monkeypatch.setattr(grade_module.CheckRunner, "run_check", recording)
    assignment = load_assignment("modules")
    only = ["Linear", "ReLU", "SoftMax", "Conv2d"]
    result = Grader(assignment, mnist=False, parallel_checks=split).grade(
        load_submission(SOLUTION), only=only)
    assert [c.name for c in result.components] == [c.name for c in assignment.components
                                                   if c.name in only]
    assert result.score == result.max_score
    two = split and (os.cpu_count() or 1) >= 2
    assert len(started) == (2 if two else 1)
    assert "hidden" in phases and "public" not in phases[phases.index("hidden"):]


@pytest.mark.parametrize("beside", [True, False])
def test_no_hidden_check_starts_before_the_mnist_training_has_ended(monkeypatch, beside):
    """Beside the checks (second worker) or in the checks' worker, the training ends before
    student code sees a hidden input: nothing of a hidden check can reach its visible
    outcome (through a lock on a shared file, or a global in the same worker)."""
    import autograder.grade as grade_module
    import autograder.mnist_check as mnist_check

    quick, _ = _mnist_only(monkeypatch, threshold=0.5, epochs=1)
    events: list[str] = []
    real_run_check, real_train = grade_module.CheckRunner.run_check, mnist_check.train_outcome

    def recording(self, check, name, *seen):
        events.append(check.visibility)
        return real_run_check(self, check, name, *seen)

    def training(*args):
        time.sleep(0.5)  # longer than the public checks of two components
        outcome = real_train(*args)
        events.append("trained")
        return outcome

    monkeypatch.setattr(grade_module.CheckRunner, "run_check", recording)
    monkeypatch.setattr(mnist_check, "train_outcome", training)
    grader = Grader(quick, parallel_mnist=beside)
    result = grader.grade(load_submission(SOLUTION), only=["Linear", "ReLU", "MNIST"])
    assert result.score == result.max_score
    assert "public" in events and "hidden" in events
    assert events.index("trained") < events.index("hidden")


@pytest.mark.parametrize("beside", [True, False])
def test_the_training_leaves_the_hidden_checks_their_time(monkeypatch, beside):
    """The hidden checks run after the training: it ends their time limits (at most a
    quarter of the budget) before the submission's budget does."""
    import autograder.mnist_check as mnist_check

    quick, _ = _mnist_only(monkeypatch, threshold=0.5, epochs=1)
    seen = []
    real_train = mnist_check.train_outcome

    def training(run, *args):
        seen.append(run.session.budget_deadline - time.monotonic())
        return real_train(run, *args)

    monkeypatch.setattr(mnist_check, "train_outcome", training)
    grader = Grader(quick, parallel_mnist=beside, budget=100.0, check_timeout=3.0)
    only = ["Linear", "Conv2d", "MNIST"]
    hidden = sum(c.visibility == "hidden" for name in only[:2]
                 for c in quick.component(name).checks)
    assert grader._hidden_reserve([quick.component(n) for n in only[:2]]) == 3.0 * hidden
    result = grader.grade(load_submission(SOLUTION), only=only)
    assert result.score == result.max_score
    assert 100.0 - 3.0 * hidden - 10 < seen[0] <= 100.0 - 3.0 * hidden
    many = Grader(quick, budget=100.0, check_timeout=30.0)
    assert many._hidden_reserve(quick.components) == 25.0  # a quarter of the budget


def test_mnist_outcome_is_the_same_whether_or_not_hidden_checks_run(tmp_path, monkeypatch):
    """A submission that remembers every Linear input and reports them from the training
    (the same worker: one core, grade-batch) shows only what public checks gave it."""
    quick, _ = _mnist_only(monkeypatch, threshold=0.5, epochs=1)
    spy = tmp_path / "spy.py"
    spy.write_text(SOLUTION.read_text() + """

_SEEN = []
_forward = Linear.updateOutput


def _spy(self, input):
    if input.shape[1] == 784:  # the MNIST training
        raise RuntimeError(f"seen {_SEEN}")
    _SEEN.append(input.shape)
    return _forward(self, input)


Linear.updateOutput = _spy
""")

    def mnist_message(visibilities):
        grader = Grader(quick, parallel_mnist=False, visibilities=visibilities)
        result = grader.grade(load_submission(spy), only=["Linear", "MNIST"])
        linear, mnist = result.components
        assert all(k.passed for k in linear.checks if k.message != "not run")  # no effect
        return mnist.checks[0].message.split(" (File")[0]  # the seen inputs

    shown = mnist_message(("public", "hidden"))
    assert "seen [(" in shown and shown == mnist_message(("public",))


# --- MNIST early stopping: the grader scores each checkpoint and stops once it passes -------


def _small_mnist(monkeypatch, n_train: int = 4000, n_test: int = 1000) -> list[float]:
    """MNIST cut to a few thousand images, and the accuracy of every checkpoint scored."""
    import autograder.mnist_check as mnist_check

    real_load, real_checkpoint = mnist_check.load_mnist, mnist_check._checkpoint
    sizes = {"train": n_train, "test": n_test}
    scored: list[float] = []

    def load(split):
        x, y = real_load(split)
        return x[:sizes[split]], y[:sizes[split]]

    def checkpoint(*args):
        point = real_checkpoint(*args)
        scored.append(point.accuracy)
        return point

    monkeypatch.setattr(mnist_check, "load_mnist", load)
    monkeypatch.setattr(mnist_check, "_checkpoint", checkpoint)
    return scored


def _mnist_only(monkeypatch, **mnist) -> tuple:
    import dataclasses

    assignment = load_assignment("modules")
    quick = dataclasses.replace(assignment, mnist={**assignment.mnist, **mnist})
    return quick, _small_mnist(monkeypatch)


def test_mnist_stops_at_the_first_checkpoint_that_reaches_the_threshold(monkeypatch):
    quick, scored = _mnist_only(monkeypatch, threshold=0.85, epochs=4)
    result = Grader(quick).grade(load_submission(SOLUTION), only=["MNIST"])
    (check,) = result.components[0].checks
    extra = result.components[0].extra
    assert check.passed, check.message
    # 4000 images, batches of 128: 32 per epoch, a checkpoint every 8 (0.25 epochs).
    assert scored[-1] >= 0.85 > max(scored[:-1], default=0.0)
    assert extra["epochs_trained"] == len(scored) * 0.25 < 4 and extra["epochs"] == 4
    assert extra["accuracy"] == round(scored[-1], 6)
    assert check.message == f"reached after {len(scored) * 0.25:g} of 4 epochs: training " \
                            "stopped there"


def test_mnist_trains_to_the_end_when_the_threshold_is_never_reached(monkeypatch):
    quick, scored = _mnist_only(monkeypatch, threshold=0.999, epochs=1)
    early = Grader(quick).grade(load_submission(SOLUTION), only=["MNIST"]).components[0]
    assert len(scored) == 4 and early.extra["epochs_trained"] == 1.0
    assert early.checks[0].message.startswith("test accuracy")
    scored.clear()
    full = Grader(quick, mnist_early_stop=False).grade(load_submission(SOLUTION),
                                                       only=["MNIST"]).components[0]
    assert len(scored) == 1 and full.extra["epochs_trained"] == 1.0
    # The checkpoints' predictions do not change the training: the same final accuracy.
    assert full.extra["accuracy"] == early.extra["accuracy"]
    assert full.checks[0].message == early.checks[0].message


def test_check_every_zero_scores_only_the_end(monkeypatch):
    quick, scored = _mnist_only(monkeypatch, threshold=0.5, epochs=1, check_every=0)
    mnist = Grader(quick).grade(load_submission(SOLUTION), only=["MNIST"]).components[0]
    assert mnist.checks[0].passed and mnist.checks[0].message == ""
    assert scored == [mnist.extra["accuracy"]] and mnist.extra["epochs_trained"] == 1.0


class _ScriptedSession:
    """A hostile worker's MNIST replies, one per request (``train``, then ``train_more``)."""

    def __init__(self, replies):
        from autograder.hangs import Hangs

        self.replies = list(replies)
        self.requests: list[str] = []
        self.dtypes: list[str | None] = []
        self.deadline = self.budget_deadline = None
        self.hangs = Hangs()

    def train(self, timeout, **fields):
        assert "y_test" not in fields and set(fields) == {"cfg", "x_train", "y_train", "seed",
                                                          "x_test"}
        self.requests.append("train")
        self.dtypes.append(fields["cfg"]["dtype"])
        return self._reply()

    def train_more(self, timeout):
        self.requests.append("train_more")
        return self._reply()

    def out_of_time(self):
        return False

    def _reply(self):
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply


def _scripted_outcome(monkeypatch, replies, probe=None, **mnist):
    import dataclasses
    import types

    import autograder.mnist_check as mnist_check

    monkeypatch.setattr(mnist_check, "load_mnist", lambda split: (
        np.zeros((256 if split == "train" else 4, 784), np.uint8), np.arange(4) % 2))
    # The checkpoint schedule alone: the probe of a pass (tests/test_mnist_probe.py) needs
    # real parameters, which scripted replies do not carry.
    monkeypatch.setattr(mnist_check, "require_probe", probe or (lambda *args: None))
    assignment = load_assignment("modules")
    assignment = dataclasses.replace(assignment, mnist={**assignment.mnist, **mnist})
    session = _ScriptedSession(replies)
    run = types.SimpleNamespace(assignment=assignment, session=session,
                                names=set(mnist_check.needed_names(assignment)),
                                ensure_worker=lambda: None)
    return mnist_check.train_outcome(run), session.requests


@pytest.mark.parametrize("bad", [
    {"finished": "no"},  # not a bool
    {"batches_done": 1.5},  # not an int
    {"batches_done": 0},  # trained nothing, yet not finished
    {"seconds": "soon"},
    {"predictions": np.zeros(2, np.int64)},  # too few
    {"predictions": [0, 1, 0, 1]},  # not an array
])
def test_a_malformed_checkpoint_from_the_worker_is_rejected(monkeypatch, bad):
    good = {"predictions": np.ones(4, np.int64), "finished": False, "batches_done": 1,
            "seconds": 0.1}
    outcome, requests = _scripted_outcome(monkeypatch, [good, {**good, **bad}])
    assert requests == ["train", "train_more"]  # 50 % < 97 %: the first asked for more
    assert outcome.cause in ("bad_type", "shape") and outcome.accuracy == 0.0
    assert "malformed checkpoint" in outcome.message or "predicted labels" in outcome.message


def test_a_worker_that_never_finishes_is_stopped_after_its_schedule(monkeypatch):
    def reply(done):
        return {"predictions": np.zeros(4, np.int64), "finished": False, "batches_done": done}

    # epochs = 4, check_every = 0.25: 16 checkpoints at most, the last one the end.
    outcome, requests = _scripted_outcome(monkeypatch, [reply(d) for d in range(1, 40)])
    assert len(requests) == 17 and "more checkpoints than its schedule" in outcome.message


def test_the_grader_stops_asking_once_a_checkpoint_passes(monkeypatch):
    replies = [{"predictions": np.array(p), "finished": False, "batches_done": d}
               for d, p in ((1, [1, 1, 1, 1]), (2, [0, 1, 0, 1]), (3, [0, 0, 0, 0]))]
    outcome, requests = _scripted_outcome(monkeypatch, replies)
    assert requests == ["train", "train_more"], outcome
    assert outcome.accuracy == 1.0 and outcome.early and outcome.epochs_trained == 1.0


@pytest.mark.parametrize("claimed", [0.0, -5.0, 1e9])
def test_the_training_time_shown_is_the_graders_own(monkeypatch, claimed):
    """The worker's "seconds" is the student's to fake (a patched clock): the outcome's time
    is measured by the grader around its requests."""
    reply = {"predictions": np.array([0, 1, 0, 1]), "finished": True, "batches_done": 1,
             "seconds": claimed}

    quick = _ScriptedSession._reply

    def slow(self):
        time.sleep(0.05)
        return quick(self)

    monkeypatch.setattr(_ScriptedSession, "_reply", slow)
    outcome, _ = _scripted_outcome(monkeypatch, [reply], threshold=0.5)
    assert 0.05 <= outcome.seconds < 60.0 and outcome.seconds != claimed


def test_a_checkpoint_without_predictions_is_skipped_but_never_the_end(monkeypatch):
    """A checkpoint the worker did not predict at (training accuracy below the gate) asks
    for more; the end must bring predictions."""
    skipped = {"predictions": None, "finished": False, "batches_done": 1}
    passing = {"predictions": np.array([0, 1, 0, 1]), "finished": False, "batches_done": 2}
    outcome, requests = _scripted_outcome(monkeypatch, [skipped, passing])
    assert requests == ["train", "train_more"] and outcome.accuracy == 1.0 and outcome.early
    outcome, _ = _scripted_outcome(monkeypatch, [{**skipped, "finished": True}])
    assert outcome.cause == "returned_none" and "predicted labels" in outcome.message


def _predicting(done, labels, finished=False):
    return {"predictions": np.array(labels), "finished": finished, "batches_done": done}


def test_a_pass_is_probed_with_the_parameters_of_its_checkpoint(monkeypatch):
    """The probe (autograder/mnist_probe.py) gets the passing checkpoint's parameters and
    accuracy, and its failure is the check's; a failing checkpoint is not probed."""
    from autograder.checks import CheckFailed
    from autograder.results import Cause

    seen = []

    def probe(assignment, cfg, parameters, accuracy, x_test, y_test):
        seen.append((parameters, accuracy))
        raise CheckFailed("not from the parameters", Cause.NOT_FROM_PARAMETERS)

    failing = {**_predicting(1, [0, 0, 0, 0]), "parameters": ["first"]}
    passing = {**_predicting(2, [0, 1, 0, 1], finished=True), "parameters": ["second"]}
    outcome, requests = _scripted_outcome(monkeypatch, [failing, passing], probe=probe,
                                          threshold=0.7)
    assert requests == ["train", "train_more"] and seen == [(["second"], 1.0)]
    assert outcome.cause == Cause.NOT_FROM_PARAMETERS and outcome.accuracy == 0.0


def test_training_stops_early_only_clear_of_the_threshold_and_ends_at_it(monkeypatch):
    """stop_margin: a checkpoint between the threshold and threshold + margin trains on;
    the end of training needs only the threshold (labels [0, 1, 0, 1])."""
    replies = [_predicting(1, [0, 1, 0, 0]), _predicting(2, [0, 1, 0, 1])]
    outcome, requests = _scripted_outcome(monkeypatch, replies, threshold=0.7,
                                          stop_margin=0.1)
    assert requests == ["train", "train_more"] and outcome.accuracy == 1.0 and outcome.early
    replies = [_predicting(1, [0, 1, 0, 0]), _predicting(2, [0, 1, 0, 0], finished=True)]
    outcome, requests = _scripted_outcome(monkeypatch, replies, threshold=0.7,
                                          stop_margin=0.1)
    assert requests == ["train", "train_more"] and outcome.accuracy == 0.75
    assert not outcome.early and not outcome.message


def test_out_of_time_after_a_scored_checkpoint_counts_the_accuracy_reached(monkeypatch):
    """A slow network: the request after a scored checkpoint outlives its wait; the accuracy
    of that checkpoint is the outcome (the training budget ends training, as documented),
    and the message says that time, not a bug, ended it."""
    from autograder.mnist_check import mnist_component
    from autograder.sandbox import WorkerTimeout

    first = {**_predicting(3, [0, 1, 0, 0]), "parameters": ["p"]}
    outcome, requests = _scripted_outcome(monkeypatch, [first, WorkerTimeout("too slow")],
                                          threshold=0.9)
    assert requests == ["train", "train_more"]
    assert (outcome.accuracy, outcome.out_of_time, outcome.message) == (0.75, True, "")
    cfg = {**load_assignment("modules").mnist, "threshold": 0.9}
    message = mnist_component(cfg, outcome, []).checks[0].message
    assert "is below the threshold" in message and "training time budget of 240 s" in message
    assert "likely cause: a layer too slow" in message


def test_a_budget_stop_reported_by_the_worker_is_named(monkeypatch):
    from autograder.mnist_check import mnist_component

    end = {**_predicting(3, [0, 1, 0, 0], finished=True), "stopped_early": True}
    outcome, _ = _scripted_outcome(monkeypatch, [end], threshold=0.9)
    assert outcome.out_of_time and outcome.accuracy == 0.75
    cfg = {**load_assignment("modules").mnist, "threshold": 0.9}
    assert "ended training after" in mnist_component(cfg, outcome, []).checks[0].message


def test_a_failed_mnist_check_names_the_classes_the_network_inherits_from():
    """The extended network uses ResidualBlock, whose code is Residual's (its base class in
    the reference): a failing Residual is one of the components to look at."""
    from autograder.mnist_check import Outcome, mnist_component, needed_names
    from autograder.results import CheckResult, ComponentResult

    def failing(name):
        checks = [CheckResult("a", True, 1, 1), CheckResult("b", False, 0, 1)]
        return ComponentResult(name, 2, checks)

    extended = load_assignment("extended", check_references=False)
    needed = needed_names(extended)
    assert {"ResidualBlock", "Residual", "Conv2d", "Module"} <= needed
    assert "RNN" not in needed
    broken = [failing("Residual"), failing("RNN")]
    outcome = Outcome(message="training raised ValueError", cause="exception")
    message = mnist_component(extended.mnist, outcome, broken, needed).checks[0].message
    assert message.endswith("components the network uses that fail checks: Residual")


def test_out_of_time_before_any_checkpoint_says_so(monkeypatch):
    from autograder.sandbox import WorkerTimeout

    outcome, _ = _scripted_outcome(monkeypatch, [WorkerTimeout("too slow")])
    assert outcome.cause == "timeout" and outcome.accuracy == 0.0 and outcome.seconds > 0
    assert "did not reach a checkpoint within its time budget (240 s" in outcome.message


def test_a_float32_training_that_raises_is_run_again_in_the_submissions_dtype(monkeypatch):
    from autograder.sandbox import StudentError

    overflow = StudentError("FloatingPointError", "loss became NaN/inf at epoch 1 batch 3")
    replies = [overflow, _predicting(5, [0, 1, 0, 1], finished=True)]
    session_dtypes = []
    real = _ScriptedSession.__init__

    def spy(self, replies):
        real(self, replies)
        session_dtypes.append(self.dtypes)

    monkeypatch.setattr(_ScriptedSession, "__init__", spy)
    outcome, requests = _scripted_outcome(monkeypatch, replies)
    assert requests == ["train", "train"] and session_dtypes == [["float32", None]]
    assert outcome.accuracy == 1.0 and not outcome.message
    assert outcome.note.startswith("training in float32 raised FloatingPointError")
    # the submission's own dtype raising too is its verdict; "native" never casts at all
    outcome, requests = _scripted_outcome(monkeypatch, [overflow, overflow])
    assert requests == ["train", "train"] and "FloatingPointError" in outcome.message
    outcome, requests = _scripted_outcome(monkeypatch, [overflow], dtype="native")
    assert requests == ["train"] and session_dtypes[-1] == [None]
    assert outcome.cause == "exception"


def test_a_float32_near_miss_is_trained_again_in_the_submissions_dtype(monkeypatch):
    """Less than stop_margin below the threshold in float32: the submission's own dtype
    decides; not when the worker trained in float64 anyway, nor for a clear miss."""
    def ending(labels, dtypes):
        return {**_predicting(4, labels, finished=True), "parameter_dtypes": dtypes}

    near, passing = [0, 1, 0, 0], [0, 1, 0, 1]  # 75 % and 100 % of labels [0, 1, 0, 1]
    outcome, requests = _scripted_outcome(
        monkeypatch, [ending(near, ["float32"]), ending(passing, ["float64"])],
        threshold=0.8, stop_margin=0.1)
    assert requests == ["train", "train"] and outcome.accuracy == 1.0
    assert outcome.note == "training in float32 reached 75.00%; trained again with the " \
                           "parameters' own dtype"
    outcome, requests = _scripted_outcome(monkeypatch, [ending(near, ["float64"])],
                                          threshold=0.8, stop_margin=0.1)
    assert requests == ["train"] and outcome.accuracy == 0.75 and not outcome.note
    outcome, requests = _scripted_outcome(monkeypatch, [ending(near, ["float32"])],
                                          threshold=0.9, stop_margin=0.1)
    assert requests == ["train"] and outcome.accuracy == 0.75


def test_a_float32_pass_just_above_the_threshold_is_trained_again(monkeypatch):
    """Less than recheck_above above the threshold: float32 may have turned a float64 fail
    into a pass, so the submission's own dtype decides; not for a clear pass."""
    def ending(labels):
        return {**_predicting(4, labels, finished=True), "parameter_dtypes": ["float32"]}

    just_above, failing = [0, 1, 0, 0], [0, 0, 0, 0]  # 75 % and 50 % of labels [0, 1, 0, 1]
    outcome, requests = _scripted_outcome(
        monkeypatch, [ending(just_above), {**ending(failing), "parameter_dtypes": ["float64"]}],
        threshold=0.7, stop_margin=0.1, recheck_above=0.1)
    assert requests == ["train", "train"] and outcome.accuracy == 0.5
    assert outcome.note == "training in float32 reached 75.00%; trained again with the " \
                           "parameters' own dtype"
    outcome, requests = _scripted_outcome(monkeypatch, [ending(just_above)],
                                          threshold=0.7, stop_margin=0.1, recheck_above=0.02)
    assert requests == ["train"] and outcome.accuracy == 0.75 and not outcome.note


def test_a_near_miss_without_time_left_keeps_its_float32_result(monkeypatch):
    from autograder.sandbox import BudgetExhausted

    near = {**_predicting(4, [0, 1, 0, 0], finished=True), "parameter_dtypes": ["float32"]}
    outcome, requests = _scripted_outcome(
        monkeypatch, [near, BudgetExhausted("the submission's total time budget ran out")],
        threshold=0.8, stop_margin=0.1)
    assert requests == ["train", "train"] and outcome.accuracy == 0.75
    assert outcome.cause is None and "no time was left" in outcome.note


def test_a_training_that_crashed_shows_no_accuracy_in_the_table():
    """Found by the blind edition round: a network whose training raised showed "accuracy
    0.00% ..., 0.0 s" as if it had trained; the table now says it did not."""
    import io

    from autograder.render import render_table
    from autograder.results import CheckResult, ComponentResult

    def table(passed, cause):
        mnist = ComponentResult("MNIST", 20.0, [CheckResult("accuracy", passed, 0.0, 20.0,
                                                            "training raised ValueError",
                                                            "public", cause)])
        mnist.extra = {"accuracy": 0.0, "threshold": 0.97, "seconds": 0.0}
        out = io.StringIO()
        render_table(GradeResult("a.py", "modules", [mnist], [], 1.0, 10.0), out)
        return out.getvalue()

    assert "did not train to an accuracy" in table(False, "exception")
    assert "accuracy 0.00% (threshold 97.0%)" in table(False, "accuracy")


class _FakeWorker:
    def __init__(self):
        self.starts = 0

    def start(self):
        self.starts += 1

    def alive(self):
        return True


class _FakeSession:
    """A worker whose top-level code raises on every load after the first (as code that
    read a hidden input from state outliving a worker would)."""

    def __init__(self):
        self.worker, self.deadline, self.loads = _FakeWorker(), None, 0

    def load(self, cells, filename, labels, **kwargs):
        self.loads += 1
        errors = [] if self.loads == 1 else [
            {"error": {"type": "RuntimeError", "message": "hidden input [0.25, -1.5]"}}]
        return {"names": ["ReLU"], "errors": errors}


def test_a_reload_after_the_first_load_writes_no_note(tmp_path):
    from autograder.loaded import LoadedSubmission

    path = tmp_path / "modules.py"
    path.write_text("class ReLU: pass\n")
    session = _FakeSession()
    loaded = LoadedSubmission(load_assignment("modules"), load_submission(path), session)
    assert loaded.notes == []
    loaded._load()  # what ensure_worker does after a check killed the worker
    assert session.loads == 2
    assert not any("hidden input" in note for note in loaded.notes)


def test_a_failure_message_is_capped_whatever_student_code_put_in_it():
    from autograder.results import MESSAGE_LINES, MESSAGE_WIDTH, failed

    flood = "\n".join(["total 174 / 174", "x" * 50_000] * 1000)
    message = failed("check", 1.0, "public", flood, None).message
    assert len(message.splitlines()) == MESSAGE_LINES
    assert max(map(len, message.splitlines())) <= MESSAGE_WIDTH
