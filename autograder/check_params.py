"""The parameters each check kind reads from assignment.toml: name, type, default, help.

A leaf module (stdlib only): the spec loader validates every check against these
declarations without importing the check kinds, and docs/spec_reference.md is rendered from
them (``python -m autograder.check_params > docs/spec_reference.md``). A new check kind
declares its parameters here, in ``KIND_PARAMS``.

Values stay as TOML gives them (lists, dicts): the kinds see exactly what the spec says.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

# Formulas in a spec are the instructor's (trusted) code; the small builtins set keeps them
# arithmetic, and __import__ is there because NumPy imports lazily inside some calls.
SPEC_GLOBALS = {"__builtins__": {"__import__": __import__, "abs": abs, "min": min, "max": max,
                                 "float": float, "int": int, "len": len, "range": range}}

# Keys of a check that are about the check itself, not parameters of its kind.
CHECK_KEYS: dict[str, type] = {"kind": str, "name": str, "points": float, "visibility": str,
                               "trials": int}
# Keys of a component that are about the component itself; any other component key is a
# parameter shared by its checks.
COMPONENT_KEYS: dict[str, type] = {"name": str, "kind": str, "aliases": list, "checks": list}


def param(default: Any, help: str) -> Any:  # noqa: A002 - the field's help text
    """A declared parameter; a mutable default is copied for each check."""
    if isinstance(default, (list, dict)):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class AssignmentKeys:
    """The `[assignment]` table. With `extends`, every key but `name`, `title`, `aliases`
    and `solution` is inherited from the base assignment unless given here."""

    name: str | None = param(None, "the assignment's name (CLI `--assignment`); unset: its "
                                   "directory's name")
    title: str | None = param(None, "a human title; unset: the name")
    aliases: list[str] = param([], "other names `--assignment` accepts (`[\"classic\"]`)")
    solution: str | None = param(None, "the reference solution, relative to the repository")
    seed: int = param(0, "seeds every check's random sizes and data")
    check_timeout: float = param(20.0, "seconds for one check (all its trials)")
    load_timeout: float = param(30.0, "seconds to execute the submission's top-level code")
    forbidden_imports: list[str] = param([], "modules a submission may not import")
    packages: list[str] = param(
        [], "extra distributions student code may import (the course's libraries, e.g. "
            "`scikit-image`); a note says when one is not installed where the grader runs")
    shims: list[dict[str, str]] = param(
        [], "APIs removed since the course was written, put back for student code: "
            "`{ api = \"skimage.util.pad\", replacement = \"numpy.pad\", note = \"...\" }`; "
            "the note is shown when a submission uses it")
    extends: str | None = param(
        None, "the name of an assignment this one extends: its tolerances, `[reference]` "
              "code, `[mnist]` table, `[assignment]` keys and components are inherited; a "
              "component defined here replaces the base's of the same name, new ones are added")
    drop: list[str] = param([], "with `extends`: base components this assignment does not have")


@dataclass(frozen=True)
class MnistKeys:
    """The `[mnist]` table: the end-to-end check (with `extends`, each key given here replaces
    the base's)."""

    points: float = param(0.0, "points for reaching the threshold")
    threshold: float = param(0.97, "test accuracy needed")
    time_budget: float = param(120.0, "seconds of training at most")
    epochs: int = param(1, "epochs of training")
    batch_size: int = param(128, "minibatch size")
    check_every: float = param(
        0.25, "epochs between checkpoints: at each, the grader scores the test predictions and "
              "stops training once they reach the threshold plus `stop_margin`; `0`: only "
              "after the last epoch")
    stop_margin: float = param(
        0.005, "how far above the threshold a checkpoint must be to stop training early (the "
               "end of training needs only the threshold): test accuracy moves by up to half "
               "a point between checkpoints")
    dtype: str = param(
        "float32", "the parameters' dtype during training (`\"native\"`: the submission's "
                   "own); the cast is skipped when it could not be transparent, and a float32 "
                   "training that raises, or ends less than `stop_margin` below the "
                   "threshold or less than `recheck_above` above it, is run again in the "
                   "submission's own dtype, which decides (a near miss keeps its result if no "
                   "time is left)")
    recheck_above: float = param(
        0.0025, "with `dtype`: how far above the threshold a float32 training may end and "
                "still be run again in the submission's own dtype (float32 against float64 "
                "moved a finished training's accuracy by up to 0.18 point on the corpus)")
    seed: int = param(0, "seeds the initialisation and the batch order")
    container: str = param("Sequential", "the container component")
    input_shape: list[int] | None = param(None, "each image's shape, e.g. `[1, 28, 28]`; unset: "
                                                "784 features")
    layers: list[list[Any]] = param([], "`[name, *positional arguments]` of each layer, in order")
    criterion: str | None = param(None, "the criterion component")
    optimizer: str | None = param(
        None, "the optimizer component, or `\"grader:adam\"`: the grader's own Adam "
              "(autograder/worker/train.py), for an edition whose students write no graded "
              "optimizer")
    optimizer_config: dict[str, float] = param({}, "the optimizer's config")


@dataclass(frozen=True)
class CheckParams:
    """What every check kind reads."""

    dims: dict[str, list[float] | str | float | dict[str, list[Any]]] = param(
        {}, "random sizes per trial: `[lo, hi]` ints (inclusive), `[lo, hi]` floats (uniform), "
            "a number, an expression over the sizes before it, or `{ cycle = [a, b, ...] }` "
            "(trial i takes the i-th value: ints, pairs, strings or booleans, each exercised)")
    timeout: float | None = param(
        None, "seconds for this check (all its trials); unset: the assignment's `check_timeout`")
    edge: str | None = param(
        None, "makes this an edge-case check: the degenerate case it covers, in words (\"the "
              "batch size is 1\"); a failure says whether ordinary shapes pass")
    edge_dims: dict[str, list[float] | str | float | dict[str, list[Any]]] = param(
        {}, "the sizes an edge-case check lays over `dims` (e.g. `{ batch = [1, 1] }`)")


@dataclass(frozen=True)
class InputParams(CheckParams):
    """Kinds that feed the component a random input."""

    input: list[str | int] | None = param(
        None, "the input's shape, as names of `dims` or integers")
    input_dist: str = param(
        "normal", "the input's distribution: normal, nonzero, probs, logprobs, hard_probs, "
                  "binary, onehot, distinct, positive, ties")
    input_scale: float = param(
        1.0, "the input is multiplied by this (normal, nonzero, distinct, positive)")
    input_shift: float = param(0.0, "added to the input (`normal` only)")


@dataclass(frozen=True)
class LayerParams(InputParams):
    """Layers and criterions, checked against a PyTorch reference and their own forward."""

    init: list[str | int] = param(
        [], "constructor arguments, as names of `dims` or literal values")
    init_kwargs: dict[str, str | int | float | bool] = param(
        {}, "constructor keyword arguments: `{ stride = \"stride\" }`, each a name of `dims` "
            "(whose value may be an int, a pair, a string or a boolean) or a literal number "
            "or boolean")
    params: dict[str, list[str | int] | dict[str, Any]] = param(
        {}, "parameter attributes and their shapes, set to random values before each check; "
            "`{ shape = [...], when = \"expr\" }`: only when the expression over the dims is "
            "true (`bias = { shape = [\"c_out\"], when = \"has_bias\" }`)")
    grads: dict[str, str] = param(
        {}, "each parameter's gradient attribute (`W = \"gradW\"`)")
    reference: str | None = param(
        None, "PyTorch expression of the output over x, t, the parameters, the dims, torch, F "
              "and the assignment's `[reference]` code; gradients follow by autograd")
    mistakes: list[dict[str, Any]] = param(
        [], "known wrong answers: `reference` (or `input_grad`, a gradInput formula over g), "
            "`message`, optional `when` (expression over the dims) and `applies_to`")
    hints: dict[str, str] = param(
        {}, "messages for failure patterns; `nonfinite`: shown when the output has NaN or inf")
    target: str | None = param(
        None, "a criterion's target distribution (as `input_dist`); unset: no target")
    mode: str | None = param(
        None, "`train` or `evaluate`: set before each check; unset: the Module default")
    float32: bool = param(
        True, "trials 0, 2, 4, ... of forward, input_grad, param_grad and no_mutation run "
              "in float32 (false: float64 only)")
    init_bound: str | None = param(
        None, "expression over the dims: initial parameters must be uniform in +-bound")
    state: dict[str, dict[str, Any]] = param(
        {}, "state attributes preset before each check (the course's tests set them): "
            "`{ shape = [...], dist = \"...\" }`, or `{ unset = \"expr\" }` to leave the "
            "constructor's value (its documented start)")
    mutation_dist: str | None = param(
        None, "no_mutation: a second input distribution that reaches every branch (exact "
              "zeros, ties, values outside clip ranges); `branches` or any `input_dist`")
    batch_step: int = param(3, "repeated: how much larger the third call's batch is")


@dataclass(frozen=True)
class StatefulParams(InputParams):
    """A sequence of operations against state formulas (e.g. BatchNorm's moving statistics)."""

    init: list[str | int] = param(
        [], "constructor arguments, as names of `dims` or literal values")
    sequence: list[str] | None = param(
        None, "operations in order: forward, backward, train, evaluate; `[]`: only the state "
              "as the constructor leaves it (with `unset` formulas), read after one "
              "evaluation-mode forward whose output is not compared")
    state: dict[str, dict[str, Any]] = param(
        {}, "state attributes set before the sequence: `{ shape = [...], dist = \"...\" }`")
    state_update: dict[str, str] = param(
        {}, "NumPy formula of each state attribute after a training forward, over `old`, x "
            "and the dims")
    reference: str | None = param(
        None, "PyTorch expression of the training-mode output (may use the state by name)")
    eval_reference: str | None = param(
        None, "PyTorch expression of the evaluation-mode output (may use the state by name)")
    state_mistakes: list[dict[str, Any]] = param(
        [], "known wrong state updates: `attr`, `formula`, `message`, optional `after` (the "
            "operation, default forward; `init` for an empty `sequence`)")


@dataclass(frozen=True)
class DropoutParams(InputParams):
    """Dropout, checked by its statistics; the drop probability is the size `p` of `dims`."""


@dataclass(frozen=True)
class ContainerParams(CheckParams):
    """Sequential, checked with the grader's probe modules."""

    depth: list[int] = param([2, 3], "number of children, `[lo, hi]` inclusive")


@dataclass(frozen=True)
class OptimizerParams(CheckParams):
    """An optimizer function, several steps against the stated update formula."""

    config: dict[str, list[float] | float] = param(
        {}, "the optimizer's config: a number, or `[lo, hi]` drawn uniformly per trial")
    state: list[str] = param([], "per-variable state names of `update`, starting at zeros")
    update: str | None = param(
        None, "the update of one variable x with gradient g at step t (Python statements)")
    mistakes: list[dict[str, Any]] = param(
        [], "known wrong updates: `update`, `message`")
    steps: int = param(4, "number of steps")


_LAYER = ("forward", "input_grad", "param_grad", "finite_diff", "no_mutation", "grad_reset",
          "parameters", "pass", "repeated")
KIND_PARAMS: dict[str, type[CheckParams]] = {
    **{kind: LayerParams for kind in _LAYER},
    **{f"{kind}_labels": LayerParams
       for kind in ("forward", "input_grad", "finite_diff", "no_mutation")},
    "stateful": StatefulParams,
    **{kind: DropoutParams
       for kind in ("dropout_eval", "dropout_stats", "dropout_fresh", "dropout_backward",
                    "dropout_no_mutation")},
    **{kind: ContainerParams
       for kind in ("sequential_forward", "sequential_backward", "sequential_parameters")},
    **{kind: CheckParams for kind in ("module_forward", "module_backward", "criterion_forward",
                                      "criterion_backward")},
    "sequential_stores": ContainerParams,
    "residual_stores": CheckParams,
    "optimizer": OptimizerParams,
    "optimizer_inplace": OptimizerParams,
    **{kind: CheckParams
       for kind in ("residual_forward", "residual_backward", "residual_parameters")},
}


def declared(kind: str) -> dict[str, dataclasses.Field]:
    """The parameters of a check kind, by name (the kind must be known)."""
    return {f.name: f for f in dataclasses.fields(KIND_PARAMS[kind])}


def type_of(kind: str, name: str) -> Any:
    return hints_of(KIND_PARAMS[kind])[name]


@functools.cache
def hints_of(cls: type) -> dict[str, Any]:
    """``typing.get_type_hints(cls)``, resolved once: it re-parses every annotation string
    on each call, which cost seconds per load when called per key."""
    return typing.get_type_hints(cls)


def type_error(value: Any, hint: Any) -> str | None:
    """Why ``value`` (as TOML gives it) is not of type ``hint``, or None if it is."""
    if hint is Any:
        return None
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        reasons = [type_error(value, arg) for arg in args]
        return None if None in reasons else f"expected {type_name(hint)}, got {_got(value)}"
    if hint is type(None):
        return None if value is None else f"expected nothing, got {_got(value)}"
    expected = origin or hint
    ok = isinstance(value, expected) and not (expected in (int, float) and isinstance(value, bool))
    if expected is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not ok:
        return f"expected {type_name(hint)}, got {_got(value)}"
    if origin is list and args:
        return next((f"item {i}: {e}" for i, v in enumerate(value)
                     if (e := type_error(v, args[0]))), None)
    if origin is dict and args:
        return next((f"{k!r}: {e}" for k, v in value.items() if (e := type_error(v, args[1]))),
                    None)
    return None


def type_name(hint: Any) -> str:
    if isinstance(hint, type) and not typing.get_args(hint):
        return hint.__name__
    # TOML has no null: an optional parameter is written as its type, or left out.
    return str(hint).replace("typing.", "").replace(" | NoneType", "").replace(" | None", "")


def _got(value: Any) -> str:
    return f"{type(value).__name__} {value!r}"


def build(kind: str, values: dict[str, Any]) -> CheckParams:
    """The typed parameters of a check; ``values`` are already validated."""
    return KIND_PARAMS[kind](**values)


def render_reference() -> str:
    """Markdown: the tables' keys and every check kind's parameters (name, type, default,
    help)."""
    lines = ["# Check parameters (reference)", "",
             "Generated from `autograder/check_params.py` by "
             "`python -m autograder.check_params > docs/spec_reference.md`; do not edit. "
             "A JSON Schema of the same keys: docs/assignment.schema.json "
             "(`python -m autograder.check_params --schema`).", ""]
    for title, cls in (("`[assignment]`", AssignmentKeys), ("`[mnist]`", MnistKeys)):
        lines += [f"## {title}", "", cls.__doc__ or "", "", *_table(cls)]
    lines += ["## Check kinds", "",
              "A check in `assignment.toml` takes `kind`, `name`, `points`, `trials` and "
              "`visibility`, plus the parameters of its kind below. A component's other keys "
              "are shared by its checks (a check may override them); each must be a parameter "
              "of at least one of the component's check kinds.", ""]
    families: dict[type[CheckParams], list[str]] = {}
    for kind, cls in KIND_PARAMS.items():
        families.setdefault(cls, []).append(kind)
    for cls, kinds in families.items():
        lines += [f"### {', '.join(f'`{k}`' for k in kinds)}", "", cls.__doc__ or "", "",
                  *_table(cls)]
    return "\n".join(lines)


def _table(cls: type) -> list[str]:
    rows = ["| parameter | type | default | help |", "| --- | --- | --- | --- |"]
    for f in dataclasses.fields(cls):
        kind = str(f.type).replace("|", "\\|")  # a bar would end the table cell
        rows.append(f"| `{f.name}` | `{kind}` | {_default(f)} | {f.metadata['help']} |")
    return [*rows, ""]


def render_schema() -> str:
    """A JSON Schema (draft 2020-12) of assignment.toml, for editors: completion and checks."""
    options: dict[str, list[dict[str, Any]]] = {}
    for cls in KIND_PARAMS.values():
        for f in dataclasses.fields(cls):
            schema = _field_schema(cls, f)
            if schema not in options.setdefault(f.name, []):
                options[f.name].append(schema)  # a name two kinds type differently: either
    params = {name: found[0] if len(found) == 1 else {"anyOf": found}
              for name, found in options.items()}
    check = {"type": "object", "required": ["kind"], "additionalProperties": False,
             "properties": {"kind": {"enum": sorted(KIND_PARAMS)},
                            **{k: _schema(t) for k, t in CHECK_KEYS.items() if k != "kind"},
                            "visibility": {"enum": ["public", "hidden"]}, **params}}
    component = {"type": "object", "required": ["name", "kind"], "additionalProperties": False,
                 "properties": {"name": {"type": "string"}, "kind": {"type": "string"},
                                "aliases": {"type": "array", "items": {"type": "string"}},
                                "checks": {"type": "array", "items": check}, **params}}
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nngrade assignment.toml",
        "description": "Generated from autograder/check_params.py; do not edit.",
        "type": "object", "additionalProperties": False,
        "properties": {
            "assignment": _object(AssignmentKeys), "mnist": _object(MnistKeys),
            "tolerance": {"type": "object", "additionalProperties": {
                "type": "object", "additionalProperties": False,
                "properties": {"rtol": {"type": "number"}, "atol": {"type": "number"}}}},
            "reference": {"type": "object", "additionalProperties": False,
                          "properties": {"code": {"type": "string", "description":
                                                  "Python helpers for reference expressions"}}},
            "components": {"type": "array", "items": component},
        },
    }
    return json.dumps(schema, indent=1) + "\n"


def _object(cls: type) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "description": cls.__doc__,
            "properties": {f.name: _field_schema(cls, f) for f in dataclasses.fields(cls)}}


def _field_schema(cls: type, f: dataclasses.Field) -> dict[str, Any]:
    return {**_schema(hints_of(cls)[f.name]), "description": f.metadata["help"]}


def _schema(hint: Any) -> dict[str, Any]:
    """The JSON Schema of a parameter's type (TOML has no null: None is left out)."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (types.UnionType, typing.Union):
        options = [_schema(a) for a in args if a is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is list:
        return {"type": "array", **({"items": _schema(args[0])} if args else {})}
    if origin is dict:
        return {"type": "object", **({"additionalProperties": _schema(args[1])} if args else {})}
    simple = {str: "string", int: "integer", float: "number", bool: "boolean",
              list: "array", dict: "object"}
    return {"type": simple[hint]} if hint in simple else {}


def _default(f: dataclasses.Field) -> str:
    value = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    return "unset" if value is None else f"`{json.dumps(value)}`"  # as TOML writes it


if __name__ == "__main__":
    import sys

    print(render_schema() if "--schema" in sys.argv[1:] else render_reference(), end="")
