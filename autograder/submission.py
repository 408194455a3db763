"""Turn a student's submission file (``.py`` or ``.ipynb``) into the code cells the worker runs.

This runs in the trusted grader process: it only reads and rewrites text, it never executes
or imports anything from the submission.

Notebook cells are reduced to plain Python. IPython-only lines (magics, shell escapes, help
lines, ``get_ipython()`` calls) are replaced by an empty line (or ``pass`` inside a block) so
that line numbers in tracebacks still match the student's cell. Cells are numbered by their
1-based position in the notebook, counting markdown and raw cells, as a student would count
them.
"""

from __future__ import annotations

import hashlib
import json
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import nbformat

MAX_BYTES = 5 * 1024 * 1024  # of code: a module, or a notebook's code cells
# A notebook file may be larger: saved outputs (plots) do not count, only its code.
MAX_NOTEBOOK_BYTES = 64 * 1024 * 1024
# JSON objects and arrays in a notebook, bounded by its '{' and '[' characters (counted before
# parsing): json and nbformat build a Python object for each, so 60 MB of "[{},{},...]" took
# 63 s and 11.6 GB in the grader. A real notebook has a few thousand (outputs and plots are
# strings); one over the limit is refused.
MAX_NOTEBOOK_CONTAINERS = 200_000
KINDS = {".py": "py", ".ipynb": "ipynb"}
# Cell magics whose body is ordinary Python that the notebook author expects to run.
BODY_CELL_MAGICS = frozenset({"time", "timeit", "capture"})
# Line magics whose argument is a statement worth keeping (it may assign names used later).
TIMED_MAGICS = frozenset({"time", "timeit"})

_MAGIC_NAME = re.compile(r"%%?(\w*)")
_TIMEIT_OPTIONS = re.compile(r"(?:-(?:[tcqo]*[nrp]\s*\d+|[tcqo]+)\s+)*")
# IPython's own "obj?" / "obj.attr[0]??" / "np.*load*?" pattern (IPython.core.inputtransformer2).
_HELP_END = re.compile(r"(?!\d)[\w*]+(?:\.(?!\d)[\w*]+|\[-?\d+\])*\?\??")
_GET_IPYTHON = re.compile(r"get_ipython\(\)\s*(?:\.|$)")
_ASSIGN_LHS = r"[A-Za-z_][\w.]*(?:\s*,\s*[A-Za-z_][\w.]*)*\s*=\s*"
_ASSIGN_ESCAPE = re.compile(_ASSIGN_LHS + r"[!%]")  # files = !ls, x = %who_ls
_ASSIGN_GET_IPYTHON = re.compile(_ASSIGN_LHS + r"get_ipython\(\)")
_CODE_STOP = re.compile(r"""#|'''|\"\"\"|['"(\[{)\]}]|\\$""")
_STRING_STOP = {q: re.compile(r"\\(?:.|$)|" + re.escape(q)) for q in ("'", '"', "'''", '"""')}


class SubmissionError(Exception):
    """The submission cannot be read; the message names the file and the problem."""


@dataclass(frozen=True)
class Submission:
    path: Path
    kind: str  # "py" or "ipynb"
    cells: list[str]  # code to execute, in order; a .py file is one cell
    filename: str  # display name used in tracebacks, e.g. "modules.py"
    dropped: list[str]  # human-readable notes of what was dropped
    # Notebook position (1-based, all cell types) of each entry of ``cells``, for messages.
    cell_numbers: list[int] = field(default_factory=list)
    digest: str = field(default="", repr=False)

    def sha256(self) -> str:
        """Hex digest of the file's bytes as loaded (re-read only if built by hand)."""
        return self.digest or hashlib.sha256(self.path.read_bytes()).hexdigest()


def load_submission(path: str | Path) -> Submission:
    path = Path(path)
    kind = _kind(path)
    data = _read_bytes(path, MAX_BYTES if kind == "py" else MAX_NOTEBOOK_BYTES)
    text = _normalise_newlines(_decode(path, data))
    if kind == "py":
        cells, dropped, numbers = [text], [], [1]
    else:
        cells, dropped, numbers = _notebook_cells(path, text)
        code = sum(len(c.encode("utf-8")) for c in cells)
        if code > MAX_BYTES:
            raise SubmissionError(f"{path}: the notebook's code is too large ({code} bytes in "
                                  f"code cells; the limit is {MAX_BYTES} bytes)")
    return Submission(
        path=path,
        kind=kind,
        cells=cells,
        filename=path.name,
        dropped=dropped,
        cell_numbers=numbers,
        digest=hashlib.sha256(data).hexdigest(),
    )


def submission_from_text(text: str, path: str | Path) -> Submission:
    """A Python submission whose code is ``text`` (a trusted reference assembled in memory)
    rather than the bytes at ``path``, which names it."""
    path = Path(path)
    return Submission(path=path, kind="py", cells=[_normalise_newlines(text)], filename=path.name,
                      dropped=[], cell_numbers=[1],
                      digest=hashlib.sha256(text.encode("utf-8")).hexdigest())


# --- reading ----------------------------------------------------------------------------------


def _kind(path: Path) -> str:
    if not path.exists():
        raise SubmissionError(f"{path}: no such file")
    if path.is_dir():
        raise SubmissionError(f"{path}: is a directory, expected a .py or .ipynb file")
    kind = KINDS.get(path.suffix.lower())
    if kind is None:
        found = repr(path.suffix) if path.suffix else "(no extension)"
        accepted = " or ".join(KINDS)
        raise SubmissionError(f"{path}: unsupported file type {found}; accepted: {accepted}")
    return kind


def _read_bytes(path: Path, limit: int) -> bytes:
    hint = "; clear the notebook's outputs" if limit == MAX_NOTEBOOK_BYTES else ""
    try:
        size = path.stat().st_size
        if size > limit:
            raise SubmissionError(
                f"{path}: file is too large ({size} bytes; the limit is {limit} bytes{hint})"
            )
        data = path.read_bytes()
    except OSError as e:
        raise SubmissionError(f"{path}: cannot read file: {e.strerror or e}") from e
    if len(data) > limit:  # the file grew between stat and read
        raise SubmissionError(f"{path}: file is too large (limit {limit} bytes{hint})")
    return data


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")  # accepts and strips a UTF-8 BOM
    except UnicodeDecodeError as e:
        bad = data[e.start : e.start + 1].hex()
        raise SubmissionError(
            f"{path}: not UTF-8 text (invalid byte 0x{bad} at offset {e.start}); "
            "save the file with UTF-8 encoding"
        ) from e


def _normalise_newlines(text: str) -> str:
    # Same as Python's universal newlines when it reads a source file.
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_notebook(path: Path, text: str) -> nbformat.NotebookNode:
    _check_containers(path, text)
    prefix = f"{path}: not a valid Jupyter notebook"
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as e:
        raise SubmissionError(f"{prefix}: not JSON ({e})") from e
    if not isinstance(raw, dict):
        raise SubmissionError(f"{prefix}: top-level JSON value is not an object")
    import nbformat  # 0.1 s of imports, paid only for a notebook

    errors: dict[str, Exception] = {}
    try:
        nb = nbformat.reads(text, as_version=4, capture_validation_error=errors)
    # nbformat raises many types on malformed input (ValidationError, KeyError, TypeError, ...).
    except Exception as e:
        raise SubmissionError(f"{prefix}: {_first_line(e)}") from e
    if "ValidationError" in errors:
        raise SubmissionError(f"{prefix}: {_first_line(errors['ValidationError'])}")
    return nb


# A JSON string (the unrolled form: linear, no backtracking), for counting what lies outside.
JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')


def _check_containers(path: Path, text: str) -> None:
    found = text.count("{") + text.count("[")  # an upper bound, and cheap: no parsing
    if found > MAX_NOTEBOOK_CONTAINERS:
        # Brackets inside strings (printed lists, code, a plot's JSON as text) build nothing.
        bare = JSON_STRING.sub("", text)
        found = bare.count("{") + bare.count("[")
    if found > MAX_NOTEBOOK_CONTAINERS:
        raise SubmissionError(
            f"{path}: notebook has too many JSON objects and arrays ({found} '{{' and '[' "
            f"characters; the limit is {MAX_NOTEBOOK_CONTAINERS}; clear the notebook's outputs)"
        )


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


# --- notebooks --------------------------------------------------------------------------------


def _notebook_cells(path: Path, text: str) -> tuple[list[str], list[str], list[int]]:
    cells: list[str] = []
    dropped: list[str] = []
    numbers: list[int] = []
    for number, cell in enumerate(_read_notebook(path, text).cells, start=1):
        if cell.cell_type != "code":
            continue
        code, notes = clean_cell(_normalise_newlines(cell.source), number)
        dropped.extend(notes)
        if code.strip():
            cells.append(code)
            numbers.append(number)
    return cells, dropped, numbers


def clean_cell(source: str, number: int) -> tuple[str, list[str]]:
    """Return the cell as plain Python ("" if nothing is left) and notes of what was dropped."""
    lines = source.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return "", []
    lines = _without_leading_indent(lines)
    notes: list[str] = []
    head = lines[first].strip()
    if head.startswith("%%"):
        if _magic_name(head) not in BODY_CELL_MAGICS:
            return "", [f"cell {number}: whole cell {_shorten(head)!r} (cell magic)"]
        notes.append(_note(number, first, first + 1, head, "IPython cell magic"))
        lines[first] = ""
    return "\n".join(_clean_lines(lines, number, notes)), notes


def _without_leading_indent(lines: list[str]) -> list[str]:
    """IPython runs a cell indented as a whole as if it were not: the indent every line
    shares comes off (``textwrap.dedent``; blank lines do not count). Line count unchanged."""
    return textwrap.dedent("\n".join(lines)).split("\n")


def _clean_lines(lines: list[str], number: int, notes: list[str]) -> list[str]:
    out: list[str] = []
    lexer = _Lexer()
    i = 0
    while i < len(lines):
        line = lines[i]
        found = _classify(line) if lexer.at_statement_start() else None
        if found is None:
            lexer.feed(line)
            out.append(line)
            i += 1
            continue
        reason, kept, python_syntax = found
        end = i + 1 if kept is not None else _construct_end(lines, i, python_syntax)
        notes.append(_note(number, i, end, line, reason))
        indent = line[: len(line) - len(line.lstrip())]
        # "pass" keeps a block that held only the magic valid; top level needs nothing.
        first = indent + (kept if kept is not None else "pass" if indent else "")
        out.extend([first] + [""] * (end - i - 1))
        lexer.feed(first)
        i = end
    return out


def _classify(line: str) -> tuple[str, str | None, bool] | None:
    """For an IPython-only line: (reason, code to keep or None, is Python syntax); else None."""
    body = line.strip()
    if body.startswith("%"):
        kept = _timed_code(body)
        if kept:
            return "IPython magic; kept the timed code", kept, False
        return "IPython magic", None, False
    if body.startswith("!"):
        return "shell escape", None, False
    if body.startswith("?") or _HELP_END.fullmatch(body):
        return "IPython help", None, False
    if _ASSIGN_ESCAPE.match(body):
        return "assignment from IPython magic or shell", None, False
    if _GET_IPYTHON.match(body) or _ASSIGN_GET_IPYTHON.match(body):
        return "get_ipython() call", None, True
    return None


def _magic_name(body: str) -> str:
    match = _MAGIC_NAME.match(body)
    return match.group(1) if match else ""


def _timed_code(body: str) -> str:
    """The statement after %time / %timeit (options stripped), or "" for other magics."""
    name = _magic_name(body)
    if body.startswith("%%") or name not in TIMED_MAGICS:
        return ""
    code = body[len(name) + 1 :].strip()
    if name == "timeit":
        code = code[_TIMEIT_OPTIONS.match(code + " ").end() :].strip()
    return code


def _construct_end(lines: list[str], start: int, python_syntax: bool) -> int:
    """Index just past the last line of the IPython construct starting at ``start``."""
    end = start + 1
    if python_syntax:  # a get_ipython() call may span lines inside brackets
        lexer = _Lexer()
        lexer.feed(lines[start])
        while not lexer.at_statement_start() and end < len(lines):
            lexer.feed(lines[end])
            end += 1
        return end
    # IPython joins a magic or shell line ending in a backslash with the next line.
    while lines[end - 1].endswith("\\") and end < len(lines):
        end += 1
    return end


def _note(number: int, start: int, end: int, line: str, reason: str) -> str:
    where = f"line {start + 1}" if end - start == 1 else f"lines {start + 1}-{end}"
    return f"cell {number}: {where} {_shorten(line.strip())!r} ({reason})"


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class _Lexer:
    """Just enough of Python's tokenizer to know whether a line starts a new statement.

    A line inside brackets, a multi-line string or after a backslash continuation is part of
    the previous statement, so ``%`` or ``!`` at its start is data, not an IPython escape.
    """

    depth: int = 0  # open brackets
    quote: str = ""  # delimiter of the string still open at the end of the last line
    backslash: bool = False  # last line ended with an explicit continuation

    def at_statement_start(self) -> bool:
        return not (self.depth or self.quote or self.backslash)

    def feed(self, line: str) -> None:
        self.backslash = False
        pos = 0
        while True:
            if self.quote:
                match = _STRING_STOP[self.quote].search(line, pos)
                if match is None:
                    if len(self.quote) == 1:  # unterminated '...': a syntax error, not ours
                        self.quote = ""
                    return
                if match.group() == "\\" and len(self.quote) == 1:
                    return  # escaped newline: the string continues on the next line
                pos = match.end()
                if match.group() == self.quote:
                    self.quote = ""
                continue
            match = _CODE_STOP.search(line, pos)
            if match is None or match.group() == "#":
                return
            pos = match.end()
            token = match.group()
            if token in _STRING_STOP:
                self.quote = token
            elif token in "([{":
                self.depth += 1
            elif token in ")]}":
                self.depth = max(0, self.depth - 1)
            else:
                self.backslash = True
