"""``nngrade grade-batch``: layouts, bad inputs as rows, resuming after SIGKILL, dask, similarity.

Grading uses a cut-down assignment (three components of ``modules``) so that each submission
takes a second or two: the batch machinery is what is under test, not the checks.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from batch_independent import independent_solution, renamed_copy
from paths import SOLUTION_TEXT

from autograder.batch import BatchOptions, run_batch
from autograder.batch import similarity as sim
from autograder.batch.feedback import render
from autograder.batch.inputs import InputError, Student, discover
from autograder.batch.records import Record
from autograder.spec import ASSIGNMENTS_DIR, REPO_ROOT, load_assignment
from autograder.submission import MAX_NOTEBOOK_CONTAINERS

SOLUTION = SOLUTION_TEXT
PARTIAL = (REPO_ROOT / "examples" / "student_partial.py").read_text()  # Linear has a bug
KEPT = ("Module", "Linear", "ReLU")  # 2 + 11 + 3 points
HOSTILE = SOLUTION.replace("        self.output = np.maximum(input, 0)\n",
                           "        while True:\n            pass\n")
assert HOSTILE != SOLUTION, "the ReLU line HOSTILE replaces is no longer in the reference"
METADATA = """\
submission_101:
  :submitters:
  - :name: Alice Martin
    :sid: '1001'
    :email: alice@uni.example
  - :name: Bob Chen
    :sid: '1002'
    :email: bob@uni.example
  :created_at: 2024-03-01 10:00:00.000000000 -08:00
  :score: 0.0
submission_102:
  :submitters:
  - :name: Carol Diaz
    :sid: '1003'
    :email: carol@uni.example
  :created_at: 2024-03-01 11:00:00.000000000 -08:00
submission_103:
  :submitters:
  - :name: Dan Evans
    :email: dan@uni.example
  :created_at: 2024-03-02 09:30:00.000000000 -08:00
"""


@pytest.fixture(scope="module")
def small_assignment(tmp_path_factory) -> str:
    """modules' assignment.toml with only the KEPT components."""
    text = (ASSIGNMENTS_DIR / "modules" / "assignment.toml").read_text()
    head, *blocks = text.split("[[components]]")
    kept = [b for b in blocks if any(f'name = "{name}"\n' in b for name in KEPT)]
    assert len(kept) == len(KEPT)
    path = tmp_path_factory.mktemp("assignment") / "assignment.toml"
    path.write_text(head + "".join("[[components]]" + b for b in kept))
    return str(path)


def options(assignment: str, **kwargs) -> BatchOptions:
    return BatchOptions(assignment=assignment, jobs=2, mnist=False, **kwargs)


def notebook(source: str) -> str:
    cells = [nbformat.v4.new_markdown_cell("# Homework"), nbformat.v4.new_code_cell(source)]
    return nbformat.writes(nbformat.v4.new_notebook(cells=cells))


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), ids
    return {r["id"]: r for r in rows}


def write_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


# --- a mixed batch ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, small_assignment):
    src = tmp_path_factory.mktemp("mixed")
    (src / "alice.py").write_text(SOLUTION)
    (src / "bob.ipynb").write_text(notebook(independent_solution()))
    (src / "carol.py").write_text(PARTIAL)
    (src / "dave").mkdir()
    (src / "dave" / "part1.py").write_text(SOLUTION)
    (src / "dave" / "part2.py").write_text(SOLUTION)
    (src / "erin.py").write_text("def broken(:\n")
    (src / "frank").mkdir()
    (src / "frank" / "modules.py").write_text(HOSTILE)
    (src / "frank" / "scratch.py").write_text("print('not this one')\n")
    (src / "gina.py").write_bytes(b"\xff\xfe\x00 not text")
    (src / "hank.ipynb").write_text("{not json")
    (src / "ivan.zip").write_bytes(b"PK\x03\x04 truncated junk")
    write_zip(src / "jack.zip", {"notes.txt": "I ran out of time", "../../escape.py": "x = 1"})
    write_zip(src / "kate.zip", {"hw/modules.py": SOLUTION, "__MACOSX/hw/._modules.py": "junk"})
    out = tmp_path_factory.mktemp("mixed-out")
    summary = run_batch(src, out, options(small_assignment, check_timeout=4.0),
                        stream=open(os.devnull, "w"))
    return summary, out


TIMINGS = ("seconds", "budget_used")  # differ from run to run

EXPECTED = {  # id: (total, status, words in the message)
    "alice": ("22", "ok", "all checks passed"),
    "bob": ("22", "ok", "all checks passed"),
    "carol": ("18", "ok", "Linear"),  # gradW over the batch: 10 of 14 for Linear
    "dave": ("", "ambiguous", "part1.py, part2.py"),
    "erin": ("0", "error", "SyntaxError"),
    "frank": ("16", "timeout", "ReLU"),
    "gina": ("", "unreadable", "not UTF-8"),
    "hank": ("", "unreadable", "not JSON"),
    "ivan": ("", "unreadable", "zip"),
    "jack": ("", "missing", "notes.txt"),
    "kate": ("22", "ok", "all checks passed"),
}


def test_mixed_batch_gives_the_expected_gradebook_results_feedback_and_report(mixed):
    _, out = mixed
    rows = read_csv(out / "grades.csv")
    got = {k: (r["total"], r["status"]) for k, r in rows.items()}
    assert got == {k: v[:2] for k, v in EXPECTED.items()}
    for key, (_, _, words) in EXPECTED.items():
        assert words in rows[key]["message"], (key, rows[key]["message"])
    assert rows["alice"]["Linear"] == "14" and rows["alice"]["max_score"] == "22"
    assert rows["frank"]["ReLU"] == "0" and rows["frank"]["Linear"] == "14"
    assert rows["frank"]["submission"] == "frank/modules.py"  # the expected name wins
    assert rows["kate"]["submission"] == "kate.zip/hw/modules.py"

    assert sorted(p.stem for p in (out / "results").glob("*.json")) == sorted(EXPECTED)
    alice = json.loads((out / "results" / "alice.json").read_text())
    assert {"submission", "assignment", "score", "max_score", "components", "notes"} <= set(alice)
    assert alice["batch"]["cache"]["sha256"] and alice["batch"]["status"] == "ok"
    carol = (out / "feedback" / "carol.md").read_text()
    assert "## What to fix" in carol and "### Linear" in carol
    assert "resubmit" in (out / "feedback" / "gina.md").read_text().lower()
    assert not list(out.rglob(".*.tmp"))

    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") >= 4  # scores, components, causes, slowest
    for section in ("Scores", "Components", "Most frequent failures", "Slowest submissions",
                    "Similar submissions", "need a look"):
        assert section in page, section
    assert "<script" not in page


def test_unchanged_results_are_reused_and_changed_ones_regraded(small_assignment, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "alice.py").write_text(SOLUTION)
    (src / "carol.py").write_text(PARTIAL)
    quiet = open(os.devnull, "w")
    first = run_batch(src, out, options(small_assignment), stream=quiet)
    assert (first.reused, first.graded) == (0, 2)
    (src / "carol.py").write_text(PARTIAL + "\n# edited\n")
    again = run_batch(src, out, options(small_assignment), stream=quiet)
    assert (again.reused, again.graded) == (1, 1)
    forced = run_batch(src, out, options(small_assignment, force=True), stream=quiet)
    assert (forced.reused, forced.graded) == (0, 2)


# --- Gradescope export, and the same batch on dask ------------------------------------------


@pytest.fixture(scope="module")
def gradescope_zip(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("gradescope")
    return write_zip(root / "export.zip", {
        "assignment_123_export/submission_metadata.yml": METADATA,
        "assignment_123_export/submission_101/modules.py": SOLUTION,
        "assignment_123_export/submission_102/modules.ipynb": notebook(renamed_copy(SOLUTION)),
        "assignment_123_export/submission_103/homework.py": independent_solution(),
    })


@pytest.fixture(scope="module")
def gradescope(tmp_path_factory, gradescope_zip, small_assignment):
    out = tmp_path_factory.mktemp("gradescope-out")
    return run_batch(gradescope_zip, out, options(small_assignment),
                     stream=open(os.devnull, "w"))


def test_gradescope_export_names_every_submitter(gradescope):
    rows = read_csv(gradescope.out / "grades.csv")
    assert sorted(rows) == ["1001", "1002", "1003", "dan@uni.example"]
    assert rows["1002"]["name"] == "Bob Chen" and rows["1002"]["email"] == "bob@uni.example"
    assert rows["1001"]["total"] == rows["1002"]["total"] == "22"  # one group submission
    assert {r["status"] for r in rows.values()} == {"ok"}
    assert rows["1003"]["submission"] == "submission_102/modules.ipynb"


def test_similarity_report_ranks_the_planted_copy_first(gradescope):
    top, *rest = gradescope.pairs
    assert {top.a, top.b} == {"1001", "1003"} and top.jaccard >= sim.THRESHOLD
    assert all(p.jaccard < sim.THRESHOLD for p in rest)
    page = (gradescope.out / "report.html").read_text()
    assert "1 pair(s) at or above the threshold" in page and "table class=\"diff\"" in page


def test_dask_gives_the_same_grades(gradescope, gradescope_zip, small_assignment, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster:
        summary = run_batch(gradescope_zip, tmp_path,
                            options(small_assignment, dask=cluster.scheduler_address),
                            stream=open(os.devnull, "w"))
    assert summary.graded == 3

    def grades(path: Path) -> dict:
        return {k: {c: v for c, v in r.items() if c not in ("message", *TIMINGS)}
                for k, r in read_csv(path / "grades.csv").items()}

    assert grades(tmp_path) == grades(gradescope.out)


# --- never losing work -----------------------------------------------------------------------


def test_sigkill_then_rerun_loses_and_duplicates_nothing(small_assignment, tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    for i, text in enumerate([SOLUTION, PARTIAL, independent_solution(), renamed_copy(SOLUTION)]):
        (src / f"s{i}.py").write_text(text)
    cmd = [sys.executable, "-m", "autograder", "grade-batch", str(src), "--out", str(out),
           "--assignment", small_assignment, "--no-mnist", "--jobs", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while not list((out / "results").glob("*.json")) and time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before it could be killed"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.name: p.read_text() for p in (out / "results").glob("*.json")}
    assert 1 <= len(first) < 4
    rerun = subprocess.run([*cmd[:-1], "2"], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert f"{len(first)} up to date" in rerun.stderr
    results = {p.name: p.read_text() for p in (out / "results").glob("*.json")}
    assert sorted(results) == [f"s{i}.json" for i in range(4)]
    assert all(results[name] == text for name, text in first.items())  # not regraded
    assert sorted(read_csv(out / "grades.csv")) == ["s0", "s1", "s2", "s3"]
    assert not list(out.rglob(".*.tmp"))


# --- inputs and similarity without grading ---------------------------------------------------


def test_bad_submissions_argument_is_an_error_not_a_crash(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "bad.zip").write_bytes(b"PK\x03\x04 junk")
    for source in ("missing", "notes.txt"):
        with pytest.raises(InputError):
            discover(tmp_path / source, tmp_path / "scratch")
    result = subprocess.run([sys.executable, "-m", "autograder", "grade-batch",
                             str(tmp_path / "missing"), "--out", str(tmp_path / "o")],
                            capture_output=True, text=True)
    assert result.returncode == 2 and "no such file" in result.stderr


def test_same_student_with_two_files_is_ambiguous(tmp_path):
    (tmp_path / "amy.py").write_text("x = 1")
    (tmp_path / "amy.ipynb").write_text(notebook("x = 1"))
    (tmp_path / "graded").mkdir()  # the output directory, inside the submissions
    (entry,) = discover(tmp_path, tmp_path / ".scratch", exclude=tmp_path / "graded")
    assert (entry.key, entry.status) == ("amy", "ambiguous")
    assert "none of them defines a component" in entry.message


def test_same_student_with_the_stub_and_a_worked_notebook_is_graded_by_the_notebook(tmp_path):
    """Students upload their whole folder: the stub module came beside the notebook."""
    names = ("Linear", "ReLU")
    stub = ("class Linear:\n    def updateOutput(self, input):\n"
            "        raise NotImplementedError('write Linear.updateOutput (see its docstring)')\n")
    (tmp_path / "amy.py").write_text(stub)
    (tmp_path / "amy.ipynb").write_text(notebook(SOLUTION))
    (tmp_path / "bo").mkdir()
    (tmp_path / "bo" / "modules.py").write_text(stub)
    (tmp_path / "bo" / "modules.ipynb").write_text(notebook(SOLUTION))
    (tmp_path / "bo" / "utils.py").write_text("def helper():\n    pass\n")
    amy, bo = discover(tmp_path, tmp_path / ".scratch", "modules", components=names)
    assert (amy.status, amy.path.name) == (None, "amy.ipynb")
    assert "graded amy.ipynb (the most complete one" in amy.notes[0]
    assert (bo.status, bo.source) == (None, "bo/modules.ipynb")
    assert bo.notes == ["graded modules.ipynb (the most complete one: the fewest stubs left); "
                        "also found: modules.py, utils.py"]


def test_a_student_in_two_gradescope_submissions_is_flagged_on_both(tmp_path):
    metadata = METADATA.replace("    :sid: '1003'", "    :sid: '1001'")
    root = tmp_path / "export"
    for folder, name in (("submission_101", "modules.py"), ("submission_102", "modules.py"),
                         ("submission_103", "modules.py")):
        (root / folder).mkdir(parents=True)
        (root / folder / name).write_text("x = 1\n")
    (root / "submission_metadata.yml").write_text(metadata)
    entries = {e.source.split("/")[0]: e for e in discover(root, tmp_path / ".scratch", "modules")}
    says = "student 1001 is also credited with"
    assert any(says in n and "submission_102" in n for n in entries["submission_101"].notes)
    assert any(says in n and "submission_101" in n for n in entries["submission_102"].notes)
    assert not any(says in n for n in entries["submission_103"].notes)


def test_links_in_the_submissions_folder_are_not_graded(tmp_path):
    """A link may point at any file the grader can read, the reference solution included."""
    subs = tmp_path / "subs"
    (subs / "carol").mkdir(parents=True)
    (subs / "alice.py").write_text("x = 1")
    (subs / "victor.py").symlink_to(REPO_ROOT / "solutions" / "modules.py")
    (subs / "carol" / "modules.py").symlink_to(REPO_ROOT / "solutions" / "modules.py")
    entries = {e.key: e for e in discover(subs, tmp_path / "scratch")}
    assert entries["alice"].path is not None and entries["alice"].status is None
    assert entries["victor"].status == "unreadable" and "a link" in entries["victor"].message
    assert entries["carol"].status == "missing" and entries["carol"].path is None


def test_a_member_the_class_zip_skips_still_gets_a_row(tmp_path, monkeypatch):
    """Too large or a link: the student has a row saying why, never no row at all."""
    import autograder.batch.inputs as inputs

    monkeypatch.setattr(inputs, "MAX_MEMBER_BYTES", 1000)
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("class/alice/modules.py", "x = 1")
        zf.writestr("class/bob.py", "x = 2")
        zf.writestr("class/dave/modules.ipynb", "x" * 5000)
        zf.writestr("class/erin.py", "y" * 5000)
        zf.writestr("class/alice/big_data.py.txt", "z" * 5000)
        link = zipfile.ZipInfo("class/mallory.py")
        link.external_attr = 0o120777 << 16  # a symbolic link
        zf.writestr(link, "../../solutions/modules.py")
    entries = {e.key: e for e in discover(archive, tmp_path / "scratch")}
    assert set(entries) == {"alice", "bob", "dave", "erin", "mallory"}
    assert entries["alice"].status is None and "too large" in entries["alice"].notes[0]
    for key in ("dave", "erin"):
        assert entries[key].status == "unreadable" and "too large" in entries[key].message
    assert entries["mallory"].status == "unreadable" and "a link" in entries["mallory"].message


def test_feedback_shows_the_students_own_text_as_typed():
    """An exception message or a name with HTML or Markdown in it is not rendered."""
    evil = "ValueError: <img src=x onerror=alert(1)> **bold** `tick`"
    record = Record("eve", "eve.py", [Student("eve", "<script>x</script>")], "error",
                    message=f"eve.py raised {evil}")
    text = render(record, load_assignment("modules"), 10.0)
    assert "&lt;script&gt;" in text and "<script>" not in text
    assert f"`` eve.py raised {evil} ``" in text


def test_similarity_separates_copies_from_independent_work():
    template = sim.strip_solutions(SOLUTION)
    codes = {"ref": SOLUTION, "copy": renamed_copy(SOLUTION), "own": independent_solution(),
             "own_copy": renamed_copy(independent_solution()), "empty": template}
    pairs = {frozenset((p.a, p.b)): p.jaccard for p in sim.find_pairs(codes, template)}
    assert pairs[frozenset(("ref", "copy"))] > 0.9
    assert pairs[frozenset(("own", "own_copy"))] > 0.9
    assert pairs[frozenset(("ref", "own"))] < sim.THRESHOLD / 2
    assert not any("empty" in pair for pair in pairs)  # the bare template is nobody's work


def test_normalisation_ignores_names_comments_and_docstrings():
    a = 'def f(x):\n    """Doc."""\n    total = np.sum(x)  # sum\n    return total\n'
    b = "def g(values):\n\n    s = np.sum(values)\n    return s\n"
    assert sim.normalise(a) == sim.normalise(b)
    assert sim.normalise("y = np.sum(x)") != sim.normalise("y = np.mean(x)")


def test_an_encrypted_or_corrupt_student_zip_is_one_unreadable_row(tmp_path):
    """Found by the second red-team round: `zip -e` (RuntimeError) or a corrupt deflate
    stream (zlib.error) stopped the whole batch without a gradebook."""
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "bob.py").write_text("x = 1")
    with zipfile.ZipFile(subs / "mallory.zip", "w") as zf:
        zf.writestr("modules.py", "x = 1")
    data = bytearray((subs / "mallory.zip").read_bytes())
    for header, flags in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # local, central
        data[data.index(header) + flags] |= 0x1  # encrypted: reading needs a password
    (subs / "mallory.zip").write_bytes(bytes(data))
    with zipfile.ZipFile(subs / "eve.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("modules.py", "x = 1\n" * 2000)
    data = bytearray((subs / "eve.zip").read_bytes())
    data[40:48] = b"\xff" * 8  # inside the deflate stream of the only member
    (subs / "eve.zip").write_bytes(bytes(data))
    entries = {e.key: e for e in discover(subs, tmp_path / "scratch")}
    assert entries["bob"].status is None
    for key in ("mallory", "eve"):
        assert entries[key].status == "unreadable", (key, entries[key].message)
        assert "not a usable zip" in entries[key].message


# --- names and files chosen by students ------------------------------------------------------

BROKEN_RELU = SOLUTION.replace("        self.output = np.maximum(input, 0)\n",
                               "        self.output = np.zeros_like(input)\n")
assert BROKEN_RELU != SOLUTION, "the ReLU line BROKEN_RELU replaces is no longer in the reference"
FORMULA_NAMES = ("x;=cmd|' -C calc'!A0", 'y;"=cmd|\' -C calc\'!A0;')


@pytest.fixture(scope="module")
def chosen_names(tmp_path_factory, small_assignment) -> Path:
    """Found by a red-team round: zip names the sanitiser makes equal, names that are
    formulas to a spreadsheet, and a notebook of millions of JSON objects."""
    src = tmp_path_factory.mktemp("names")
    write_zip(src / "bob smith.zip", {"modules.py": BROKEN_RELU})
    write_zip(src / "bob_smith.zip", {"modules.py": SOLUTION})
    for name in FORMULA_NAMES:
        (src / f"{name}.py").write_text(SOLUTION)
    heavy = json.loads(notebook("x = 1"))
    heavy["cells"][1]["metadata"]["x"] = [{}] * MAX_NOTEBOOK_CONTAINERS
    (src / "heavy.ipynb").write_text(json.dumps(heavy))
    out = tmp_path_factory.mktemp("names-out")
    run_batch(src, out, options(small_assignment), stream=open(os.devnull, "w"))
    return out


def raw_csv(path: Path) -> str:
    with open(path, newline="") as fh:
        return fh.read()


def test_zips_whose_names_sanitise_alike_are_graded_each_with_its_own_files(chosen_names):
    rows = read_csv(chosen_names / "grades.csv")
    assert rows["bob_smith"]["total"] == "22"
    assert rows["bob smith"]["total"] != "22" and "(ReLU)" in rows["bob smith"]["message"]
    assert rows["bob smith"]["submission"] == "bob smith.zip/modules.py"


def test_every_gradebook_field_is_quoted(chosen_names):
    text = raw_csv(chosen_names / "grades.csv")
    again = io.StringIO()
    csv.writer(again, quoting=csv.QUOTE_ALL).writerows(csv.reader(io.StringIO(text)))
    assert again.getvalue() == text


def test_a_semicolon_spreadsheet_finds_no_formula_in_the_gradebook(chosen_names):
    # Such a spreadsheet splits at every ';' outside quotes, and after a closing quote reads
    # on as plain text: Python's reader with delimiter ';' does the same.
    text = raw_csv(chosen_names / "grades.csv")
    cells = [c for row in csv.reader(io.StringIO(text), delimiter=";") for c in row]
    assert any(c.startswith("'=") for c in cells)  # a name's ';' did start a cell
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@", "\t", "\r"))]
    graded = [r for r in read_csv(chosen_names / "grades.csv").values() if "cmd" in r["id"]]
    assert [r["total"] for r in graded] == ["22", "22"]


def test_a_notebook_of_too_many_json_objects_is_a_row_and_the_batch_goes_on(chosen_names):
    rows = read_csv(chosen_names / "grades.csv")
    assert rows["heavy"]["status"] == "unreadable"
    assert "too many JSON objects and arrays" in rows["heavy"]["message"]
    assert len(rows) == 5 and rows["bob_smith"]["status"] == "ok"
