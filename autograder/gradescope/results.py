"""Turn a grade into Gradescope's ``results.json``: one test per check, hidden checks masked.

Everything here decides what students see. Public checks show the engine's message. Hidden
checks show only a fixed sentence per failure cause: the engine's own messages name input
shapes, values and the batch size, which would reveal the hidden test cases.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from autograder.results import Cause, CheckResult, ComponentResult, GradeResult

SCHEMA_PATH = Path(__file__).resolve().parent / "results.schema.json"
VISIBILITIES = ("visible", "after_published", "after_due_date", "hidden")
DEFAULT_HIDDEN_VISIBILITY = "after_published"

# Failure causes (``CheckResult.cause``) -> what a student may learn from a hidden check.
# No numbers, shapes or values: only the kind of mistake. A new cause id in the engine needs
# a sentence here (tests/test_gradescope.py checks); until then it shows HIDDEN_FALLBACK.
HIDDEN_CAUSES: dict[Cause | None, str] = {
    None: "wrong values",
    Cause.TIMES_BATCH: "off by a factor of the batch size (only criterions average over the batch)",
    Cause.OVER_BATCH: "divided by the batch size (only criterions divide by the batch size)",
    Cause.SIGN_FLIP: "sign flipped",
    Cause.FACTOR_2: "twice the right value",
    Cause.FACTOR_HALF: "half the right value",
    Cause.FACTOR: "off by a constant factor",
    Cause.TRANSPOSED: "the result is transposed",
    Cause.TRANSPOSED_SHAPE: "the result has the transposed shape",
    Cause.RESHAPED: "right values, wrong shape",
    Cause.SHAPE: "wrong shape",
    Cause.ZEROS: "all zeros: not computed, or reset after computing",
    Cause.NONFINITE: "NaN or inf in the result (overflow or log of zero)",
    Cause.SPEC_MISTAKE: "matches a known mistake; the public checks of this component describe it",
    Cause.RETURNED_NONE: "a result is None: not returned, or not stored",
    Cause.BAD_TYPE: "a result is not a plain numeric numpy array",
    Cause.MUTATES_INPUT: "the input or gradOutput is modified in place",
    Cause.GRAD_ACCUMULATION: "parameter gradients are not accumulated over backward calls",
    Cause.ZERO_GRAD: "zeroGradParameters does not reset the gradients",
    Cause.PARAM_SHAPE: "a parameter or its gradient has the wrong shape",
    Cause.GET_PARAMETERS: "getParameters or getGradParameters do not return the layer's own arrays",
    Cause.INIT: "parameters are not initialised as specified",
    Cause.NOT_INPLACE: "variables are not updated in place",
    Cause.EXCEPTION: "your code raised an exception",
    Cause.TIMEOUT: "timed out: an infinite loop, or far too slow (vectorise over the batch)",
    Cause.CRASH: "the process running your code died (crash, or out of memory)",
    Cause.NOT_A_FUNCTION: "the forward pass gives other values near an input than at it",
    Cause.MISSING: "not found: the submission does not define this component",
    Cause.LOAD: "the submission's top-level code failed to run",
    Cause.GRADER_ERROR: "internal grader error; please report it",
    Cause.SKIPPED: "not run",
    Cause.SEQUENTIAL_CALLS: "a child is not called exactly once per pass",
    Cause.SEQUENTIAL_ACC: "the children's parameter gradients are not computed",
    Cause.RESIDUAL_CALLS: "the wrapped module is not called exactly once per pass",
    Cause.RESIDUAL_ACC: "the wrapped module's parameter gradients are not computed",
    Cause.CONTAINER_PARAMS: "getParameters or getGradParameters do not list one entry per child",
    Cause.CONTAINER_GETITEM: "indexing does not return the modules in the order they were added",
    Cause.CONTAINER_PROPAGATION: "a call is not passed on to every child",
    Cause.CONTAINER_MODE: "train() or evaluate() is not passed on to every child",
    Cause.MODULE_INIT: "a new module does not start in training mode",
    Cause.MODULE_BACKWARD: "backward does not call updateGradInput then accGradParameters",
    Cause.MODULE_MODE: "train() or evaluate() does not set the training flag",
    Cause.MODULE_PARAMS: "a module without parameters must return empty lists",
    Cause.NOT_STORED: "a result is returned but not stored in self.output / self.gradInput",
    Cause.CRITERION_BASE: "Criterion.forward/backward do not call and return "
                          "updateOutput/updateGradInput",
    Cause.DROPOUT_SCALE: "kept values are not scaled by the inverse of the keep probability",
    Cause.DROPOUT_RATE: "the drop rate does not match p",
    Cause.DROPOUT_INDEPENDENCE: "mask elements are not drawn independently",
    Cause.DROPOUT_STALE_MASK: "the mask is not drawn afresh on every forward",
    Cause.DROPOUT_MASK_NOT_REUSED: "backward does not reuse the forward's mask",
    Cause.OPTIMIZER_MISTAKE: "the update follows a known wrong formula",
    Cause.ACCURACY: "the test accuracy is below the threshold",
    Cause.NOT_FROM_PARAMETERS: "the test predictions do not follow from the network's trained "
                               "parameters",
    Cause.BUDGET: "not run: the submission's total time budget is used up",
}
HIDDEN_FALLBACK = "wrong result"
HIDDEN_NOTE = "Hidden check: its inputs and expected values are not shown."
_BUILTIN_EXCEPTIONS = frozenset(
    name for name, obj in vars(builtins).items()
    if isinstance(obj, type) and issubclass(obj, BaseException))


def hidden_output(check: CheckResult) -> str:
    """A failed hidden check's text: a fixed sentence chosen by cause, never the message."""
    if check.passed:
        return "Passed."
    sentence = HIDDEN_CAUSES.get(check.cause, HIDDEN_FALLBACK)
    if check.cause == Cause.EXCEPTION:
        # The type name is student-controlled; only a builtin's name is known to be harmless.
        kind = re.match(r"\w*", check.message.removeprefix("your code raised ")).group()
        if kind in _BUILTIN_EXCEPTIONS:
            sentence = f"your code raised {kind}"
    return f"Failed: {sentence}. {HIDDEN_NOTE}"


def public_output(comp: ComponentResult, check: CheckResult) -> str:
    if check.passed:
        return "Passed."
    alias = f"(graded your class '{comp.found_as}')\n" if comp.found_as else ""
    return f"Failed:\n{alias}{check.message}"


def check_entries(comp: ComponentResult, hidden_visibility: str) -> list[dict[str, Any]]:
    """One test per check. A hidden check's own name may describe its inputs ("MNIST-sized
    images"), so it is shown as "hidden check", numbered when the component has several."""
    several = sum(k.visibility == "hidden" for k in comp.checks) > 1
    entries, seen = [], 0
    for check in comp.checks:
        if check.visibility == "hidden":
            seen += 1
            number = f" {seen}" if several else ""
            name, output, visibility = (f"hidden check{number}", hidden_output(check),
                                        hidden_visibility)
        else:
            name, output, visibility = check.name, public_output(comp, check), "visible"
        entries.append({
            "name": f"{comp.name}: {name}",
            "score": check.score,
            "max_score": check.max_score,
            "status": "passed" if check.passed else "failed",
            "output": output,
            "visibility": visibility,
        })
    return entries


def mnist_training(result: GradeResult) -> dict[str, float] | None:
    """Accuracy and seconds when the student's network trained to the end, else None."""
    comp = next((c for c in result.components if c.name == "MNIST"), None)
    if comp is None or not comp.trained:
        return None  # did not train (missing component, exception, timeout): nothing to rank
    return {"accuracy": float(comp.extra["accuracy"]), "seconds": float(comp.extra["seconds"]),
            "threshold": float(comp.extra["threshold"])}


def leaderboard(result: GradeResult) -> list[dict[str, Any]]:
    trained = mnist_training(result)
    if trained is None:
        return []
    return [{"name": "MNIST test accuracy", "value": round(trained["accuracy"], 6),
             "order": "desc"},
            {"name": "MNIST training time (s)", "value": round(trained["seconds"], 2),
             "order": "asc"}]


def _fmt(points: float) -> str:
    return f"{points:g}"


def printable(text: str) -> str:
    """Student text (a file name, a note quoting an exception) on one line, its control
    characters escaped: a newline in it must not start a line of the results (a fake
    "Hidden checks: all passed")."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def summary(result: GradeResult, title: str, filename: str, notes: list[str]) -> str:
    """The top-level text. It never says "all passed" while hidden checks lost points."""
    checks = [(c, k) for c in result.components for k in c.checks]
    public = [(c, k) for c, k in checks if k.visibility != "hidden"]
    hidden = [(c, k) for c, k in checks if k.visibility == "hidden"]
    lines = [f"{title}: {_fmt(result.score)} / {_fmt(result.max_score)} points.",
             f"Graded file: {filename}"]
    if all(k.passed for _, k in checks):
        lines.append(f"All {len(checks)} checks passed, public and hidden.")
    else:
        lines.append(_count_line("Public checks", public))
        if hidden:
            lines.append(_count_line("Hidden checks", hidden))
            if any(not k.passed for _, k in hidden):
                lines.append("A hidden check's result names the component and the kind of "
                             "mistake, never its inputs or expected values.")
    trained = mnist_training(result)
    if trained is not None:
        lines.append(f"MNIST: test accuracy {trained['accuracy']:.2%} (threshold "
                     f"{trained['threshold']:.1%}), trained in {trained['seconds']:.1f} s.")
    if notes:
        lines.append("Notes:")
        lines += [f"  - {printable(note)}" for note in notes]
    return "\n".join(lines)


def _count_line(label: str, checks: list[tuple[ComponentResult, CheckResult]]) -> str:
    failed = [(c, k) for c, k in checks if not k.passed]
    if not failed:
        return f"{label}: all {len(checks)} passed."
    names = ", ".join(dict.fromkeys(c.name for c, _ in failed))
    lost = sum(k.max_score for _, k in failed)
    return (f"{label}: {len(failed)} of {len(checks)} failed ({names}); "
            f"{_fmt(lost)} points missing.")


def build_results(result: GradeResult, title: str, filename: str,
                  hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                  notes: list[str] | None = None) -> dict[str, Any]:
    """The whole ``results.json`` for a graded submission."""
    tests = [t for c in result.components for t in check_entries(c, hidden_visibility)]
    # No "execution_time": it includes the hidden checks, so a submission sleeping as a hidden
    # input says would read that input off the time shown (a red-team round did).
    return {
        "score": result.score,
        "output": summary(result, title, filename, [*result.notes, *(notes or [])]),
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        # run_autograder's stdout holds the full report, hidden messages included.
        "stdout_visibility": "hidden",
        "tests": tests,
        "leaderboard": leaderboard(result),
    }


def failure_results(message: str) -> dict[str, Any]:
    """Zero points and one explanation: no gradable file, or the grader itself failed."""
    return {
        "score": 0.0,
        "output": message,
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [],
        "leaderboard": [],
    }


def validate(results: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``results`` follows the specification,
    and ``ValueError`` for a NaN or infinity (Python's json writes them; JSON has none)."""
    import jsonschema

    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator(schema).validate(results)
    json.dumps(results, allow_nan=False)


def write_results(path: Path, results: dict[str, Any]) -> None:
    """Atomically replace ``path``, whatever is there (a forged file, a link, a directory)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".results-", suffix=".json")
    try:
        with os.fdopen(fd, "w") as fh:
            json.dump(results, fh, indent=2, allow_nan=False)  # NaN is not JSON
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
