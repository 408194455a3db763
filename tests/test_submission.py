"""Reading submissions: file checks, .py files and notebooks reduced to plain Python cells."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_raw_cell

from autograder import submission
from autograder.submission import (
    MAX_BYTES,
    MAX_NOTEBOOK_CONTAINERS,
    Submission,
    SubmissionError,
    clean_cell,
    load_submission,
)


def write_notebook(tmp_path: Path, *cells, name: str = "modules.ipynb") -> Path:
    path = tmp_path / name
    path.write_text(nbformat.writes(new_notebook(cells=list(cells))), encoding="utf-8")
    return path


def load_cells(tmp_path: Path, *sources: str) -> Submission:
    return load_submission(write_notebook(tmp_path, *map(new_code_cell, sources)))


# --- file checks -------------------------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(SubmissionError, match=r"nope\.py: no such file"):
        load_submission(tmp_path / "nope.py")


def test_directory(tmp_path):
    (tmp_path / "sub.py").mkdir()
    with pytest.raises(SubmissionError, match="is a directory"):
        load_submission(tmp_path / "sub.py")


@pytest.mark.parametrize("name", ["modules.txt", "modules", "modules.py.bak", "nb.json"])
def test_unknown_extension_names_accepted_ones(tmp_path, name):
    path = tmp_path / name
    path.write_text("x = 1\n")
    with pytest.raises(SubmissionError) as info:
        load_submission(path)
    message = str(info.value)
    assert name in message and ".py" in message and ".ipynb" in message


def test_too_large(tmp_path):
    path = tmp_path / "big.py"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(SubmissionError, match=r"big\.py: file is too large"):
        load_submission(path)


def test_exactly_at_limit_is_accepted(tmp_path):
    path = tmp_path / "edge.py"
    path.write_bytes(b"#" * MAX_BYTES)
    assert len(load_submission(path).cells[0]) == MAX_BYTES


@pytest.mark.parametrize("name", ["latin.py", "latin.ipynb"])
def test_not_utf8(tmp_path, name):
    path = tmp_path / name
    path.write_bytes("s = 'café'\n".encode("latin-1"))
    with pytest.raises(SubmissionError, match=rf"{name}: not UTF-8 text \(invalid byte 0xe9"):
        load_submission(path)


def test_utf8_bom_is_accepted_and_stripped(tmp_path):
    py = tmp_path / "bom.py"
    py.write_bytes(b"\xef\xbb\xbfx = 'caf\xc3\xa9'\n")
    assert load_submission(py).cells == ["x = 'café'\n"]
    nb = write_notebook(tmp_path, new_code_cell("y = 2"))
    nb.write_bytes(b"\xef\xbb\xbf" + nb.read_bytes())
    assert load_submission(nb).cells == ["y = 2"]


@pytest.mark.parametrize(
    "content, detail",
    [
        ("{not json", "not JSON"),
        ("[1, 2]", "not an object"),
        ("{}", "missing a key"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "cells"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": 3}', ""),
        ('{"nbformat": 9, "nbformat_minor": 0, "metadata": {}, "cells": []}', "version 9"),
        ('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"x": 1}]}', ""),
        ("[" * 100_000, "not JSON"),
    ],
)
def test_invalid_notebook(tmp_path, content, detail):
    path = tmp_path / "broken.ipynb"
    path.write_text(content)
    with pytest.raises(SubmissionError) as info:
        load_submission(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a valid Jupyter notebook: ")
    assert detail in message


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.py"
    path.write_text("x = 1\n")

    def refuse(self):  # chmod is not enforced for root, so simulate the OS error
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", refuse)
    with pytest.raises(SubmissionError, match=r"secret\.py: cannot read file: Permission denied"):
        load_submission(path)


# --- .py files ---------------------------------------------------------------------------------


def test_py_file_is_one_cell_with_normalised_newlines(tmp_path):
    path = tmp_path / "modules.py"
    data = b"import numpy as np\r\n\r\ndef f(x):\r\n    return x\r\n"
    path.write_bytes(data)
    sub = load_submission(str(path))
    assert sub.kind == "py"
    assert sub.path == path
    assert sub.filename == "modules.py"
    assert sub.cells == ["import numpy as np\n\ndef f(x):\n    return x\n"]
    assert sub.dropped == []
    assert sub.cell_numbers == [1]
    assert sub.sha256() == hashlib.sha256(data).hexdigest()


def test_py_file_keeps_percent_lines(tmp_path):
    # Only notebooks are IPython; a .py file is run exactly as written.
    path = tmp_path / "a.py"
    path.write_text("%matplotlib inline\n")
    assert load_submission(path).cells == ["%matplotlib inline\n"]


def test_sha256_is_of_the_loaded_bytes(tmp_path):
    path = tmp_path / "a.py"
    path.write_bytes(b"x = 1\n")
    sub = load_submission(path)
    path.write_bytes(b"x = 2\n")
    assert sub.sha256() == hashlib.sha256(b"x = 1\n").hexdigest()
    manual = Submission(path, "py", ["x = 2\n"], "a.py", [])
    assert manual.sha256() == hashlib.sha256(b"x = 2\n").hexdigest()


# --- notebooks: cell selection ----------------------------------------------------------------


def test_notebook_code_cells_in_order(tmp_path):
    path = write_notebook(
        tmp_path,
        new_markdown_cell("# Title\n%not code"),
        new_code_cell("import numpy as np"),
        new_raw_cell("raw"),
        new_code_cell(""),
        new_code_cell("   \n\n"),
        new_code_cell("def f(x):\n    return np.tanh(x)\n"),
        name="hw1.ipynb",
    )
    sub = load_submission(path)
    assert sub.kind == "ipynb"
    assert sub.filename == "hw1.ipynb"
    assert sub.cells == ["import numpy as np", "def f(x):\n    return np.tanh(x)\n"]
    assert sub.cell_numbers == [2, 6]
    assert sub.dropped == []
    assert sub.sha256() == hashlib.sha256(path.read_bytes()).hexdigest()


def test_notebook_with_list_sources_and_crlf(tmp_path):
    nb = json.loads(nbformat.writes(new_notebook(cells=[new_code_cell("")])))
    nb["cells"][0]["source"] = ["x = 1\r\n", "%time y = x\r\n", "z = 3"]
    path = tmp_path / "win.ipynb"
    path.write_text(json.dumps(nb))
    sub = load_submission(path)
    assert sub.cells == ["x = 1\ny = x\nz = 3"]


def test_nbformat3_notebook_is_converted(tmp_path):
    nb3 = {
        "nbformat": 3,
        "nbformat_minor": 0,
        "metadata": {},
        "worksheets": [
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "input": "a = 1",
                        "language": "python",
                        "outputs": [],
                        "metadata": {},
                    }
                ],
                "metadata": {},
            }
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(nb3))
    assert load_submission(path).cells == ["a = 1"]


# --- notebooks: line magics, shell escapes, help ----------------------------------------------


def test_line_magics_shell_and_help_become_empty_lines(tmp_path):
    source = "\n".join(
        [
            "%matplotlib inline",
            "import numpy as np",
            "!pip install torch",
            "np.zeros?",
            "?np.ones",
            "np.linalg.norm??",
            "np.*load*?",
            "x = np.ones(3)",
        ]
    )
    sub = load_cells(tmp_path, "a = 0", source)
    assert sub.cells[1] == "\nimport numpy as np\n\n\n\n\n\nx = np.ones(3)"
    assert sub.cells[1].split("\n")[7] == "x = np.ones(3)"  # line numbers preserved
    assert sub.dropped == [
        "cell 2: line 1 '%matplotlib inline' (IPython magic)",
        "cell 2: line 3 '!pip install torch' (shell escape)",
        "cell 2: line 4 'np.zeros?' (IPython help)",
        "cell 2: line 5 '?np.ones' (IPython help)",
        "cell 2: line 6 'np.linalg.norm??' (IPython help)",
        "cell 2: line 7 'np.*load*?' (IPython help)",
    ]


def test_get_ipython_calls_are_dropped(tmp_path):
    source = (
        "get_ipython().run_line_magic('matplotlib', 'inline')\n"
        "get_ipython().system(\n"
        "    'ls'\n"
        ")\n"
        "out = get_ipython().getoutput('ls')\n"
        "ip = get_ipython()\n"
        "y = 1\n"
        "print(get_ipython)  # mentions it but is plain Python\n"
    )
    sub = load_cells(tmp_path, source)
    assert sub.cells == ["\n" * 6 + source.split("\n", 6)[6]]
    assert sub.dropped == [
        "cell 1: line 1 \"get_ipython().run_line_magic('matplotlib', 'inline')\" "
        "(get_ipython() call)",
        "cell 1: lines 2-4 'get_ipython().system(' (get_ipython() call)",
        "cell 1: line 5 \"out = get_ipython().getoutput('ls')\" (get_ipython() call)",
        "cell 1: line 6 'ip = get_ipython()' (get_ipython() call)",
    ]


def test_assignment_from_shell_or_magic_is_dropped(tmp_path):
    sub = load_cells(tmp_path, "files = !ls\na, b = %who_ls\nc = 1")
    assert sub.cells == ["\n\nc = 1"]
    assert [note.split(" (")[-1] for note in sub.dropped] == [
        "assignment from IPython magic or shell)"
    ] * 2


def test_time_and_timeit_keep_their_statement(tmp_path):
    source = "%time w = train(3)\n%timeit -n 10 -r 3 y = f(w)\n%timeit -qo -n5 g()\n%time\nz = w"
    sub = load_cells(tmp_path, "train = f = g = lambda *a: 1", source)
    assert sub.cells[1] == "w = train(3)\ny = f(w)\ng()\n\nz = w"
    assert sub.dropped == [
        "cell 2: line 1 '%time w = train(3)' (IPython magic; kept the timed code)",
        "cell 2: line 2 '%timeit -n 10 -r 3 y = f(w)' (IPython magic; kept the timed code)",
        "cell 2: line 3 '%timeit -qo -n5 g()' (IPython magic; kept the timed code)",
        "cell 2: line 4 '%time' (IPython magic)",
    ]
    namespace: dict = {}
    for cell in sub.cells:
        exec(compile(cell, "x", "exec"), namespace)  # test-built code, not a submission
    assert namespace["z"] == 1 and namespace["y"] == 1


def test_indented_magics_keep_blocks_valid(tmp_path):
    source = (
        "for i in range(2):\n"
        "    %time x = i * 2\n"
        "def f():\n"
        "    %matplotlib inline\n"
        "if True:\n"
        "    !ls\n"
        "    y = 1\n"
        "    %timeit -n 1 y += 1\n"
        "class A:\n"
        "    obj?\n"
    )
    sub = load_cells(tmp_path, source)
    assert sub.cells == [
        "for i in range(2):\n"
        "    x = i * 2\n"
        "def f():\n"
        "    pass\n"
        "if True:\n"
        "    pass\n"
        "    y = 1\n"
        "    y += 1\n"
        "class A:\n"
        "    pass\n"
    ]
    assert len(sub.dropped) == 5
    compile(sub.cells[0], "x", "exec")


def test_magic_with_backslash_continuation(tmp_path):
    sub = load_cells(tmp_path, "!pip install \\\n    numpy\nx = 1")
    assert sub.cells == ["\n\nx = 1"]
    assert sub.dropped == ["cell 1: lines 1-2 '!pip install \\\\' (shell escape)"]


def test_percent_and_bang_inside_python_constructs_are_kept(tmp_path):
    source = (
        's = """\n'
        "%d items\n"
        "!important\n"
        '"""\n'
        "t = (1\n"
        "     %2)\n"
        "u = 'a\\\n"
        "%b'\n"
        "v = 1 + \\\n"
        "    2\n"
        "w = 5 % 3  # %comment ?\n"
        "x = 'what?'\n"
    )
    sub = load_cells(tmp_path, source)
    assert sub.cells == [source]
    assert sub.dropped == []
    compile(source, "x", "exec")


def test_state_recovers_after_strings_and_brackets(tmp_path):
    source = (
        "a = '''x\n"
        "''' ; b = [1,\n"
        '2] ; c = "it\'s" # ( [\n'
        "d = r'\\'' + f\"{a!r}\"\n"
        "%matplotlib inline\n"
    )
    sub = load_cells(tmp_path, source)
    assert sub.cells[0].split("\n")[4] == ""
    assert sub.dropped == ["cell 1: line 5 '%matplotlib inline' (IPython magic)"]


# --- notebooks: cell magics -------------------------------------------------------------------


@pytest.mark.parametrize("magic", ["%%time", "%%timeit -n 1 -r 1", "%%capture out"])
def test_cell_magics_that_keep_the_body(tmp_path, magic):
    sub = load_cells(tmp_path, f"\n{magic}\nx = 1\n%matplotlib inline\ny = x + 1")
    assert sub.cells == ["\n\nx = 1\n\ny = x + 1"]
    assert sub.dropped == [
        f"cell 1: line 2 {magic!r} (IPython cell magic)",
        "cell 1: line 4 '%matplotlib inline' (IPython magic)",
    ]


@pytest.mark.parametrize(
    "magic", ["%%bash", "%%writefile helper.py", "%%html", "%%javascript", "%%script python"]
)
def test_other_cell_magics_drop_the_whole_cell(tmp_path, magic):
    sub = load_cells(tmp_path, "a = 1", f"{magic}\nimport os\nos.system('rm -rf /')", "b = 2")
    assert sub.cells == ["a = 1", "b = 2"]
    assert sub.cell_numbers == [1, 3]
    assert sub.dropped == [f"cell 2: whole cell {magic!r} (cell magic)"]


def test_cell_left_empty_is_skipped_but_noted(tmp_path):
    sub = load_cells(tmp_path, "%%time\n", "%load_ext autoreload\n%autoreload 2", "x = 1")
    assert sub.cells == ["x = 1"]
    assert sub.cell_numbers == [3]
    assert len(sub.dropped) == 3


def test_cell_magic_later_in_cell_is_a_dropped_line(tmp_path):
    sub = load_cells(tmp_path, "x = 1\n%%bash\ny = 2")
    assert sub.cells == ["x = 1\n\ny = 2"]


def test_clean_cell_direct():
    assert clean_cell("", 1) == ("", [])
    assert clean_cell("x = 1", 4) == ("x = 1", [])
    code, notes = clean_cell("%pwd", 7)
    assert code == "" and notes == ["cell 7: line 1 '%pwd' (IPython magic)"]


def test_long_lines_are_shortened_in_notes(tmp_path):
    sub = load_cells(tmp_path, "!echo " + "a" * 200)
    assert len(sub.dropped[0]) < 120 and "..." in sub.dropped[0]


# --- the result is plain Python ---------------------------------------------------------------


def test_notebook_with_magics_compiles(tmp_path):
    path = write_notebook(
        tmp_path,
        new_markdown_cell("# Homework"),
        new_code_cell("%matplotlib inline\n%load_ext autoreload\n%autoreload 2\nimport numpy"),
        new_code_cell("!pip install -q tqdm\nnp.zeros??"),
        new_code_cell("%%time\nfor epoch in range(2):\n    %time loss = epoch\n    !nvidia-smi"),
        new_code_cell("%%bash\necho hi | grep h"),
        new_code_cell(
            "def forward(x):\n"
            "    %debug\n"
            "    return x\n"
            "with open(__file__ if False else '/dev/null') as f:\n"
            "    get_ipython().run_line_magic('pdb', 'on')\n"
            "%timeit forward(1)\n"
            "forward?\n"
        ),
    )
    sub = load_submission(path)
    assert sub.cell_numbers == [2, 4, 6]  # cell 3 is left empty, cell 5 is %%bash
    for cell in sub.cells:
        compile(cell, "x", "exec")


def test_a_cell_indented_as_a_whole_runs_as_ipython_runs_it(tmp_path):
    """IPython strips the indent every line shares (the second notebook round found that
    stripping the first line's indent broke cells whose first line alone is indented)."""
    sub = load_cells(tmp_path, "\n    class ReLU:\n        pass\n    x = 1\n", "\tz = 2\n",
                     "    # a comment\nclass A:\n    pass\n",  # nothing shared: unchanged
                     "    class B:\n            # deeper\n        pass\n")
    assert sub.cells == ["\nclass ReLU:\n    pass\nx = 1\n", "z = 2\n",
                         "    # a comment\nclass A:\n    pass\n",
                         "class B:\n        # deeper\n    pass\n"]
    for cell in sub.cells:
        compile(cell, "<cell>", "exec")


def test_a_notebook_of_too_many_json_objects_is_refused_before_parsing(tmp_path):
    # A red team's 60 MB of empty objects in a cell's metadata took 63 s and 11.6 GB of the
    # grader's memory to parse; it is refused from its '{' and '[' count instead.
    cell = new_code_cell("x = 1")
    cell.metadata["x"] = [{}] * MAX_NOTEBOOK_CONTAINERS
    path = write_notebook(tmp_path, cell, name="heavy.ipynb")
    with pytest.raises(SubmissionError, match=r"heavy\.ipynb: notebook has too many JSON "
                       rf"objects and arrays \(\d+ '{{' and '\[' characters; the limit is "
                       rf"{MAX_NOTEBOOK_CONTAINERS}; clear the notebook's outputs\)"):
        load_submission(path)


def _json_values(value):
    yield value
    for inner in value.values() if isinstance(value, dict) else \
            value if isinstance(value, list) else ():
        yield from _json_values(inner)


def test_a_notebook_at_the_json_object_limit_loads(tmp_path, monkeypatch):
    """The limit counts JSON objects and arrays: brackets inside strings (code, printed
    lists) build nothing and do not count."""
    cell = new_code_cell("x = [1, {2: 3}]")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="[1, {2: 3}]\n" * 50)]
    path = write_notebook(tmp_path, new_markdown_cell("# HW"), cell)
    text = path.read_text()
    found = sum(isinstance(v, (dict, list)) for v in _json_values(json.loads(text)))
    assert text.count("{") + text.count("[") > found + 100  # the printed lists' brackets
    monkeypatch.setattr(submission, "MAX_NOTEBOOK_CONTAINERS", found)
    assert load_submission(path).cells == ["x = [1, {2: 3}]"]
    monkeypatch.setattr(submission, "MAX_NOTEBOOK_CONTAINERS", found - 1)
    with pytest.raises(SubmissionError, match="too many JSON objects and arrays"):
        load_submission(path)


def test_a_notebooks_outputs_do_not_count_towards_the_size_limit(tmp_path):
    plot = {"output_type": "display_data", "metadata": {},
            "data": {"image/png": "A" * (MAX_BYTES + 1000)}}
    cell = new_code_cell("x = 1")
    cell.outputs = [nbformat.from_dict(plot)]
    assert load_submission(write_notebook(tmp_path, cell)).cells == ["x = 1"]
    big = write_notebook(tmp_path, new_code_cell("#" * (MAX_BYTES + 1)), name="code.ipynb")
    with pytest.raises(SubmissionError, match="the notebook's code is too large"):
        load_submission(big)
