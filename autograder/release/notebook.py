"""The student notebook: per component a description, the stub cell and a check cell, then MNIST.

Deterministic: cell ids are derived from the content's role (``linear-code``), no outputs,
no execution counts, no timestamps, so regenerating gives the same bytes.

Cells that must not run when the grader executes a submitted notebook (the checker setup,
the check cells, the MNIST section) sit under ``if __name__ == "__main__":``: Jupyter runs
the notebook as ``__main__``, the grader's worker as a module named ``submission``.
"""

from __future__ import annotations

import ast
import json
import re

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.release.formulas import FORMULAS
from autograder.release.student import Definition, docstring_body, split_module
from autograder.release.training import training_cells
from autograder.spec import Assignment

GUARD = 'if __name__ == "__main__":  # skipped when the grader runs your notebook'
METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}


def build_notebook(module_text: str, assignment: Assignment,
                   regions: list[str] | None = None) -> nbformat.NotebookNode:
    """The student notebook for a stub (or reference) module's text.

    ``regions``: owners of the solution regions (``Linear.updateOutput``), which the
    component descriptions list as "you write"; see ``split_module``.
    """
    parts = split_module(module_text, regions)
    cells = [
        new_markdown_cell(_intro(assignment, parts.docstring), id="intro"),
        new_code_cell(_setup(parts.setup, assignment), id="setup"),
    ]
    section = None
    for definition in parts.definitions:
        if definition.section != section and definition.section:
            section = definition.section
            cells.append(new_markdown_cell(f"## {section}", id=f"section-{_slug(section)}"))
        cells.extend(_definition_cells(definition, assignment))
    cells.append(new_markdown_cell(
        "## All public checks\n\nThe checks of every component at once. Hidden checks and "
        "the MNIST training check run only when you submit.", id="check-all-about"))
    cells.append(new_code_cell(f"{GUARD}\n    display(grader.check_all())", id="check-all"))
    if assignment.mnist:
        cells.extend(training_cells(assignment))
    return new_notebook(cells=cells, metadata=METADATA)


def notebook_text(notebook: nbformat.NotebookNode) -> str:
    nbformat.validate(notebook)
    text = nbformat.writes(notebook)
    return text if text.endswith("\n") else text + "\n"


def _intro(assignment: Assignment, docstring: str) -> str:
    conventions = docstring_body(docstring)
    return "\n\n".join([
        f"# {assignment.title}",
        "Implement each component below: replace every `raise NotImplementedError(...)` in "
        "its code cell with your code, following the docstrings (shapes, formula, what to "
        "cache, a hint). Run the cell, then the check cell under it: it runs the public "
        "checks on the code you just ran and tells you what is wrong. Hidden checks and the "
        "MNIST training check run only when you submit.",
        "Code under `if __name__ == \"__main__\":` runs in Jupyter only: the grader skips "
        "it when it runs your notebook. Put your own experiments under such a line too (or "
        "delete them before submitting): everything else runs when you are graded, and "
        "`torch` may not be imported there.",
        "From a terminal, `nngrade check <this notebook> [COMPONENT ...]` checks the saved "
        "file, exactly as the grader will read it.",
        *[_markdown(p) for p in conventions],
    ])


def _setup(imports: str, assignment: Assignment) -> str:
    lines = [imports.strip(), "", GUARD,
             "    from autograder.student.otter_bridge import notebook_grader", "",
             "    # otter.Notebook() when otter is installed and tests/ is here, else nngrade's",
             f"    grader = notebook_grader(assignment={json.dumps(assignment.name)})"]
    return "\n".join(lines).strip()


def _definition_cells(definition: Definition, assignment: Assignment) -> list:
    slug = _slug(definition.name)
    try:
        component = assignment.component(definition.name)
    except KeyError:
        component = None
    about = _about(definition, component is not None)
    cells = [new_markdown_cell(about, id=f"{slug}-about"),
             new_code_cell(definition.source.strip("\n"), id=f"{slug}-code")]
    if component is not None:
        call = f"display(grader.check({json.dumps(component.name)}))"
        cells.append(new_code_cell(f"{GUARD}\n    {call}", id=f"{slug}-check"))
    return cells


def _about(definition: Definition, is_component: bool) -> str:
    is_class = isinstance(definition.node, ast.ClassDef)
    doc = ast.get_docstring(definition.node, clean=True) or ""
    if not is_class:  # the rest (arguments, formula, hint) is in the code cell's docstring
        doc = doc.split("\n\n")[0]
    parts = [f"### {definition.name}", _markdown(doc)]
    parts += [f"$$\n{formula}\n$$" for formula in FORMULAS.get(definition.name, [])]
    shapes = _shape_lines(definition.node)
    if shapes:
        title = "**Shapes**" if is_class else "**Arguments**"
        parts.append(f"{title}\n\n" + "\n".join(f"- {_markdown(s)}" for s in shapes))
    if definition.to_write:
        names = ", ".join(f"`{m}`" for m in definition.to_write)
        what = f"the methods {names}" if is_class else f"the marked part of {names}"
        parts.append(f"**You write** {what}: each `raise NotImplementedError(...)` in the "
                     "cell below. The docstrings give the formula, what to cache and a hint.")
    elif is_component:
        parts.append("**Given**: nothing to write, run the cell. It is checked all the same, "
                     "because everything else builds on it.")
    else:
        parts.append("**Given**: nothing to write, run the cell.")
    return "\n\n".join(p for p in parts if p)


def _shape_lines(node: ast.ClassDef | ast.FunctionDef) -> list[str]:
    """The Inputs/Returns/Sets bullets of the forward pass (or of the function itself)."""
    wanted: list[tuple[ast.AST, tuple[str, ...]]]
    if isinstance(node, ast.ClassDef):
        methods = {n.name: n for n in node.body if isinstance(n, ast.FunctionDef)}
        wanted = [(methods[name], headers) for name, headers in
                  (("updateOutput", ("Inputs:", "Returns:")), ("accGradParameters", ("Sets:",)))
                  if name in methods]
    else:
        wanted = [(node, ("Inputs:",))]
    lines: list[str] = []
    for target, headers in wanted:
        doc = ast.get_docstring(target, clean=True) or ""
        for header in headers:
            lines.extend(b for b in _bullets(doc, header) if b not in lines)
    return lines


def _bullets(doc: str, header: str) -> list[str]:
    bullets: list[str] = []
    inside = False
    for line in doc.split("\n"):
        if line.strip() == header:
            inside = True
        elif inside and not line.strip():
            break
        elif inside and line.lstrip().startswith("- "):
            bullets.append(line.strip()[2:])
        elif inside and bullets:
            bullets[-1] += " " + line.strip()
    return bullets


def _markdown(text: str) -> str:
    """RST-ish docstring text to Markdown: ``code`` becomes `code`."""
    return re.sub(r"``(.+?)``", r"`\1`", text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "cell"
