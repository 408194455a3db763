"""Which file to grade when one student's submission holds several .py/.ipynb files.

Students upload whole working folders: the notebook they worked in, the stub module
released beside it, the release's public test files (``tests/Linear.py``, ...), helper scripts
of their own. Grading none of them (a zero until they resubmit) punishes a habit, so the
grader chooses, from what the files say read as text (nothing is executed or imported), and
tells the student which file it graded:

1. the release's own public test files are never candidates;
2. files named after the assignment (``modules.py``, ``modules.ipynb``) come first;
3. among the files that define at least one of the assignment's components: the one with
   the fewest stubs left (the release's ``raise NotImplementedError("write ...")``), then
   the most components; a notebook before a module when both are equal (the release's
   README asks for the notebook first);
4. a tie after that (two equally finished modules) is the student's to settle.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from autograder.submission import SubmissionError, load_submission

GENERATED_TEST = "from autograder.student.otter_bridge import otter_case"
_DEFINITION = re.compile(r"^[ \t]*(?:class|def)[ \t]+(\w+)", re.MULTILINE)
# The stub lines `nngrade release` writes (autograder.release.strip.stub_message); the given
# code's own NotImplementedErrors (Module's abstract methods) are the same in every copy.
_STUB = re.compile(r"raise[ \t]+NotImplementedError\(\s*[\"']write ")


@dataclass(frozen=True)
class Choice:
    path: Path | None  # the file to grade; None when the choice is the student's to make
    note: str = ""  # why this file, when there were others; or why none


@dataclass(frozen=True)
class _Candidate:
    path: Path
    stubs: int
    components: int

    @property
    def rank(self) -> tuple[int, int, int]:
        return self.stubs, -self.components, 0 if self.path.suffix.lower() == ".ipynb" else 1


def choose(found: Iterable[Path], directory: Path, stem: str = "",
           components: Iterable[str] = ()) -> Choice:
    """The file of ``found`` (paths under ``directory``) to grade, with the reason."""
    found = sorted(found)
    shown = {p: p.relative_to(directory).as_posix() for p in found}
    code = {p: _code(p) for p in found}
    candidates = [p for p in found if GENERATED_TEST not in code[p]]
    if not candidates:
        return Choice(None, "only the release's public test files (tests/*.py) were found")
    named = [p for p in candidates if p.stem == stem]
    pool = named or candidates
    if len(pool) == 1:
        path = pool[0]
        why = "named after the assignment" if named else "the others are the release's tests"
    else:
        names = set(components)
        ranked = sorted((_Candidate(p, len(_STUB.findall(code[p])),
                                    len(names & set(_DEFINITION.findall(code[p]))))
                         for p in pool), key=lambda c: c.rank)
        ranked = [c for c in ranked if c.components]
        if not ranked:
            return Choice(None, "none of them defines a component of the assignment, so it is "
                                "not clear which one to grade")
        if len(ranked) > 1 and ranked[0].rank == ranked[1].rank:
            tied = ", ".join(shown[c.path] for c in ranked if c.rank == ranked[0].rank)
            return Choice(None, f"{tied} are equally complete, so it is not clear which one "
                                "to grade")
        path = ranked[0].path
        why = "the most complete one: the fewest stubs left"
    others = [shown[p] for p in candidates if p != path]
    if len(found) > len(candidates):
        others.append(f"{len(found) - len(candidates)} public test file(s) of the release")
    if not others:
        return Choice(path)
    listed = ", ".join(others[:8]) + (f" and {len(others) - 8} more" if len(others) > 8 else "")
    return Choice(path, f"graded {shown[path]} ({why}); also found: {listed}")


def _code(path: Path) -> str:
    """The file's code as the grader would run it (a notebook's code cells); "" if it
    cannot be read (load_submission says why, should it be chosen)."""
    try:
        return "\n".join(load_submission(path).cells)
    except SubmissionError:
        return ""
