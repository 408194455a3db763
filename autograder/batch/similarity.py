"""Pairs of submissions whose code is suspiciously alike.

Each submission becomes a stream of normalised tokens: comments, docstrings and layout
dropped, the identifiers a student chooses (variables, parameters, attributes) replaced by
one placeholder, while keywords, operators, numbers and library names (``np.exp``,
``.reshape``, ``range``) stay. Fingerprints are hashes of K consecutive tokens, thinned by
winnowing (the smallest hash of every W consecutive ones: any shared run of W + K - 1 tokens
is still caught).

Template lines are dropped before tokenising and template k-grams after, so that only what
students wrote counts. Two submissions are compared by the Jaccard index of their fingerprint
sets; containment (shared over the smaller set) is reported too, for partial copies.

THRESHOLD comes from measurement (``benchmarks/batch_bench.py --similarity``, docs/batch.md):
on this assignment two independent correct solutions score 0.07, a copy with renamed
variables, reworded comments and added blank lines 0.98, and a submission that copies 3/4 of
the solution regions and writes the rest itself 0.46.
"""

from __future__ import annotations

import builtins
import difflib
import hashlib
import io
import json
import keyword
import os
import re
import textwrap
import tokenize
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autograder.spec import REPO_ROOT, Assignment

K = 12  # tokens per fingerprint: about one statement
W = 4  # winnowing window
THRESHOLD = 0.4
MIN_FINGERPRINTS = 8  # fewer own fingerprints: too little own code to compare
PLACEHOLDER = "V"
API_NAMES = frozenset(n for n in dir(np) + dir(np.ndarray) if not n.startswith("_"))
KEPT_NAMES = frozenset(n for n in dir(builtins) if not n.startswith("_")) | {"self"}
SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT,
                     tokenize.ENCODING, tokenize.ENDMARKER})
_REGEX_TOKEN = re.compile(r"\d[\w.]*|\w+|'[^']*'|\"[^\"]*\"|\S")


@dataclass(frozen=True)
class Pair:
    a: str
    b: str
    jaccard: float
    containment: float  # shared fingerprints over the smaller set: catches partial copies
    shared: int


# --- tokens ----------------------------------------------------------------------------------


def normalise(code: str, given: frozenset[str] = frozenset()) -> list[str]:
    """The token stream that fingerprints are taken from. Lines that are also in the template
    (``given``: stripped lines) are left out; each run of the student's own lines is
    tokenised on its own (fast: a submission is mostly template)."""
    out: list[str] = []
    for block in _own_blocks(code, given):
        out.extend(_tokens(block))
        if out and out[-1] != ";":
            out.append(";")
    return out


def _own_blocks(code: str, given: frozenset[str]) -> list[str]:
    if not given:
        return [code]
    blocks: list[list[str]] = [[]]
    for line in code.splitlines():
        if not line.strip():
            continue
        if line.strip() in given:
            if blocks[-1]:
                blocks.append([])
        else:
            blocks[-1].append(line)
    return [textwrap.dedent("\n".join(b)) + "\n" for b in blocks if b]


def _tokens(code: str) -> list[str]:
    try:
        raw = [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(code).readline)
               if t.type not in SKIPPED]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return _regex_tokens(code)  # broken or partial code still has a shape worth comparing
    out: list[str] = []
    for i, (kind, text) in enumerate(raw):
        if kind == tokenize.NEWLINE:
            if out and out[-1] != ";":
                out.append(";")
        elif kind == tokenize.STRING:
            if not _is_docstring(raw, i):
                out.append("S")
        elif kind == tokenize.NAME:
            after_dot = i > 0 and raw[i - 1][1] == "."
            out.append(_name(text, after_dot))
        else:
            out.append(text)
    return out


def _is_docstring(raw: list[tuple[int, str]], i: int) -> bool:
    """A string that is a whole statement: documentation, not code."""
    before = raw[i - 1][0] if i else tokenize.NEWLINE
    after = raw[i + 1][0] if i + 1 < len(raw) else tokenize.NEWLINE
    return before == tokenize.NEWLINE and after == tokenize.NEWLINE


def _name(text: str, after_dot: bool) -> str:
    if keyword.iskeyword(text) or text in KEPT_NAMES and not after_dot:
        return text
    return text if after_dot and text in API_NAMES else PLACEHOLDER


def _regex_tokens(code: str) -> list[str]:
    out: list[str] = []
    for line in code.splitlines():
        line = line.split("#", 1)[0]
        words = _REGEX_TOKEN.findall(line)
        for i, word in enumerate(words):
            if word[0] in "'\"":
                out.append("S")
            elif word[0].isalpha() or word[0] == "_":
                out.append(_name(word, i > 0 and words[i - 1] == "."))
            else:
                out.append(word)
        if words:
            out.append(";")
    return out


# --- fingerprints ----------------------------------------------------------------------------


def kgram_hashes(tokens: list[str], k: int = K) -> list[int]:
    return [int.from_bytes(hashlib.blake2b("\x1f".join(tokens[i:i + k]).encode(),
                                           digest_size=8).digest(), "big")
            for i in range(len(tokens) - k + 1)]


def winnow(hashes: list[int], w: int = W) -> set[int]:
    if len(hashes) <= w:
        return set(hashes)
    return {min(hashes[i:i + w]) for i in range(len(hashes) - w + 1)}


@dataclass(frozen=True)
class Template:
    """What every student was given: its lines, and every k-gram of its tokens."""

    lines: frozenset[str] = frozenset()
    hashes: frozenset[int] = frozenset()

    @classmethod
    def of(cls, text: str) -> Template:
        lines = frozenset(line.strip() for line in text.splitlines()) - {""}
        return cls(lines, frozenset(kgram_hashes(normalise(text))) if text else frozenset())


def fingerprints(code: str, template: Template = Template(), k: int = K, w: int = W) -> set[int]:
    return winnow(kgram_hashes(normalise(code, template.lines), k), w) - template.hashes


def score(a: set[int], b: set[int]) -> tuple[float, float, int]:
    shared = len(a & b)
    union = len(a | b)
    smaller = min(len(a), len(b))
    return (shared / union if union else 0.0), (shared / smaller if smaller else 0.0), shared


def find_pairs(codes: dict[str, str], template: str = "",
               cache: Path | None = None) -> list[Pair]:
    """Every pair sharing fingerprints, most similar first.

    ``cache``: a directory keeping each code's fingerprints between runs (tokenising is the
    slow part: tens of milliseconds per submission).
    """
    given = Template.of(template)
    salt = hashlib.sha256(f"{K}/{W}/{template}".encode()).hexdigest()[:16]
    prints = {key: _cached_fingerprints(code, given, salt, cache) for key, code in codes.items()}
    keys = sorted(k for k, v in prints.items() if len(v) >= MIN_FINGERPRINTS)
    if len(keys) < 2:
        return []
    shared = _shared_counts([prints[k] for k in keys])
    sizes = np.array([len(prints[k]) for k in keys])
    pairs = []
    for i, j in zip(*np.nonzero(np.triu(shared, 1)), strict=True):
        n = int(shared[i, j])
        union = sizes[i] + sizes[j] - n
        pairs.append(Pair(keys[i], keys[j], float(n / union),
                          float(n / min(sizes[i], sizes[j])), n))
    return sorted(pairs, key=lambda p: (-p.jaccard, -p.containment, p.a, p.b))


def _shared_counts(sets: list[set[int]]) -> np.ndarray:
    """|A & B| for every two sets at once: a sparse incidence matrix times its transpose."""
    from scipy import sparse

    index: dict[int, int] = {}
    rows, cols = [], []
    for row, fingerprint_set in enumerate(sets):
        for fp in fingerprint_set:
            rows.append(row)
            cols.append(index.setdefault(fp, len(index)))
    data = np.ones(len(rows), dtype=np.int32)
    matrix = sparse.csr_matrix((data, (rows, cols)), shape=(len(sets), len(index)))
    return (matrix @ matrix.T).toarray()


def _cached_fingerprints(code: str, given: Template, salt: str, cache: Path | None) -> set[int]:
    if cache is None:
        return fingerprints(code, given)
    path = cache / f"{hashlib.sha256(code.encode()).hexdigest()[:32]}-{salt}.json"
    try:
        return set(json.loads(path.read_text()))
    except (OSError, ValueError):
        pass
    result = fingerprints(code, given)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(sorted(result)))
    os.replace(tmp, path)
    return result


# --- the template and the side-by-side view --------------------------------------------------


def strip_solutions(source: str) -> str:
    """The solution file with its ``# BEGIN SOLUTION`` ... ``# END SOLUTION`` regions removed."""
    kept, inside = [], False
    for line in source.splitlines():
        marker = line.strip()
        if marker.startswith("# BEGIN SOLUTION"):
            inside = True
        elif marker.startswith("# END SOLUTION"):
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept) + "\n"


def assignment_template(assignment: Assignment) -> str:
    """What students started from: the shipped template, else the stripped solution."""
    if assignment.solution is None:
        return ""
    shipped = REPO_ROOT / "student_templates" / assignment.solution.name
    if shipped.is_file():
        return shipped.read_text(encoding="utf-8", errors="replace")
    if assignment.solution.is_file():
        return strip_solutions(assignment.solution_text())
    return ""


def own_lines(code: str, template: str) -> list[str]:
    """The lines a student wrote: non-blank lines that do not appear in the template."""
    given = {line.strip() for line in template.splitlines()}
    return [line.rstrip() for line in code.splitlines()
            if line.strip() and line.strip() not in given]


def side_by_side(code_a: str, code_b: str, template: str, label_a: str, label_b: str) -> str:
    """An HTML table (difflib) of the two students' own lines; the caller adds the styles."""
    differ = difflib.HtmlDiff(tabsize=4, wrapcolumn=64)
    return differ.make_table(own_lines(code_a, template), own_lines(code_b, template),
                             label_a, label_b)
