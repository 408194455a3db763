"""Assignment definitions: components, checks, points, tolerances, as data (TOML)."""

from __future__ import annotations

import ast
import difflib
import functools
import importlib.util
import json
import math
import re
import tomllib
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import refcache, solution_source
from autograder.check_params import (
    CHECK_KEYS,
    COMPONENT_KEYS,
    KIND_PARAMS,
    SPEC_GLOBALS,
    AssignmentKeys,
    CheckParams,
    MnistKeys,
    build,
    declared,
    hints_of,
    type_error,
    type_of,
)
from autograder.definitions import parse

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"



class SpecError(Exception):
    """The assignment definition is invalid or cannot be found."""


@dataclass(frozen=True)
class CheckSpec:
    component: str
    name: str
    kind: str
    points: float
    visibility: str
    trials: int
    params: CheckParams  # the kind's typed parameters, validated on load
    component_kind: str = ""  # the component's kind: layer, criterion, optimizer, ...
    # Component keys overlaid by the check's own keys, untyped: kept for code that predates
    # ``params``; read ``params`` instead.
    fields: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"

    @property
    def ordinary(self) -> bool:
        """A check at the component's ordinary shapes: public and not an edge case."""
        return self.visibility == "public" and not getattr(self.params, "edge", None)


@dataclass(frozen=True)
class Component:
    name: str
    kind: str
    aliases: tuple[str, ...]
    checks: tuple[CheckSpec, ...]

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


@dataclass(frozen=True)
class Shim:
    """A compatibility shim: ``api`` (``module.attr``, removed from a library since the course
    was written) is provided as ``replacement`` (``module.attr``) inside the worker; ``note``
    is added to the feedback of a submission that used it."""

    api: str
    replacement: str
    note: str


@dataclass(frozen=True)
class Assignment:
    name: str
    title: str
    path: Path
    seed: int
    check_timeout: float
    load_timeout: float
    forbidden_imports: tuple[str, ...]
    tolerance: dict[str, dict[str, float]]
    components: tuple[Component, ...]
    mnist: dict[str, Any] | None
    solution: Path | None
    reference_code: str = ""  # [reference] code: helpers for reference expressions
    packages: tuple[str, ...] = ()  # extra distributions student code may import
    shims: tuple[Shim, ...] = ()  # removed APIs put back for student code
    raw: dict[str, Any] = field(repr=False, default_factory=dict)  # merged with any base
    aliases: tuple[str, ...] = ()  # other names of the assignment ("classic")
    extends: str | None = None  # the assignment this one extends

    def component(self, name: str) -> Component:
        for comp in self.components:
            if name in comp.names:
                return comp
        raise KeyError(name)

    def network_config(self, cfg: dict[str, Any], defined: set[str]) -> tuple[dict, list[str]]:
        """``cfg`` (a network for ``train_and_predict``: container, layers, criterion,
        optimizer) with each component name replaced by the one the submission defines
        (``SoftMax`` may be ``Softmax``), and the names it does not define at all."""
        rename = {cfg["optimizer"]: cfg["optimizer"]}  # a grader optimizer stays as it is
        for name in network_names(cfg):
            try:
                candidates = self.component(name).names
            except KeyError:
                candidates = (name,)
            rename[name] = next((n for n in candidates if n in defined), None)
        missing = [name for name, found in rename.items() if found is None]
        if missing:
            return cfg, missing
        return {**cfg, "container": rename[cfg.get("container", "Sequential")],
                "layers": [[rename[layer[0]], *layer[1:]] for layer in cfg["layers"]],
                "criterion": rename[cfg["criterion"]],
                "optimizer": rename[cfg["optimizer"]]}, []

    def solution_text(self) -> str:
        """The full reference solution, its given parts drawn from the files it names."""
        if self.solution is None:
            raise SpecError(f"{self.name}: no reference solution")
        try:
            return solution_source.assemble(self.solution)
        except solution_source.SolutionSourceError as exc:
            raise SpecError(str(exc)) from None

    def solution_files(self) -> list[Path]:
        """The reference solution's file and every file it draws code from."""
        if self.solution is None:
            return []
        if not self.solution.is_file():
            return [self.solution]
        return solution_source.sources(self.solution)

    @property
    def max_score(self) -> float:
        mnist_points = self.mnist.get("points", 0) if self.mnist else 0
        return sum(c.points for c in self.components) + mnist_points


def find_assignment(name_or_path: str | Path) -> Path:
    """An assignment is a TOML path, a directory holding assignment.toml, or a name (or an
    alias, ``[assignment] aliases``): in the repository's assignments/, else the
    assignment.toml of a student bundle in the current directory (written by
    `nngrade release`) when its name matches."""
    candidates = [Path(name_or_path), Path(name_or_path) / "assignment.toml",
                  ASSIGNMENTS_DIR / str(name_or_path) / "assignment.toml"]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    for path in sorted(ASSIGNMENTS_DIR.glob("*/assignment.toml")):
        if str(name_or_path) in _declared_names(path):
            return path.resolve()
    local = Path("assignment.toml")
    if local.is_file() and str(name_or_path) in _declared_names(local)[:1]:
        return local.resolve()
    known = sorted(p.parent.name for p in ASSIGNMENTS_DIR.glob("*/assignment.toml"))
    raise SpecError(f"unknown assignment {str(name_or_path)!r}{_suggest(str(name_or_path), known)}")


def _declared_names(path: Path) -> list[str]:
    """The name and the aliases an assignment.toml declares."""
    try:
        meta = tomllib.loads(path.read_text()).get("assignment", {})
    except (OSError, tomllib.TOMLDecodeError):
        return []
    return [n for n in [meta.get("name"), *meta.get("aliases", [])] if isinstance(n, str)]


# Keys an extending assignment does not inherit: they say which assignment this is.
OWN_KEYS = ("name", "title", "aliases", "solution", "extends", "drop")


@dataclass
class _Raw:
    """An assignment.toml merged with the assignments it extends; components keep the file
    they come from, so that an error points at the right file and line."""

    path: Path
    tables: dict[str, Any]
    components: list[tuple[dict[str, Any], _Source]]


def _read(name_or_path: str | Path, seen: tuple[Path, ...] = ()) -> _Raw:
    path = find_assignment(name_or_path)
    if path in seen:
        raise SpecError(f"{path}: extends itself (through {', '.join(map(str, seen))})")
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}") from None
    source = _Source(path, text.splitlines())
    _validate_tables(raw, source)
    own = [(c, source) for c in raw.get("components", [])]
    meta = raw.get("assignment", {})
    if "extends" not in meta:
        return _Raw(path, raw, own)
    base = _read(meta["extends"], (*seen, path))
    return _Raw(path, _merged_tables(base.tables, raw),
                _merged_components(base.components, own, meta.get("drop", []), source))


def _merged_tables(base: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in base.get("assignment", {}).items() if k not in OWN_KEYS}
    code = "\n\n".join(c for c in (base.get("reference", {}).get("code", ""),
                                   raw.get("reference", {}).get("code", "")) if c)
    tables = {"assignment": {**meta, **raw.get("assignment", {})},
              "tolerance": {**base.get("tolerance", {}), **raw.get("tolerance", {})},
              "reference": {"code": code}}
    if "mnist" in base or "mnist" in raw:
        tables["mnist"] = {**base.get("mnist", {}), **raw.get("mnist", {})}
    return tables


def _merged_components(base: list[tuple[dict, _Source]], own: list[tuple[dict, _Source]],
                       drop: list[str], source: _Source) -> list[tuple[dict, _Source]]:
    """The base's components minus ``drop``; one defined here replaces the base's of the same
    name in place, a new one is added at the end."""
    names = [c.get("name") for c, _ in base]
    for name in drop:
        if name not in names:
            raise SpecError(f"{source.where_top('drop')}: [assignment] drop: no component "
                            f"{name!r} in the base assignment{_suggest(name, names)}")
    mine = {c.get("name"): (c, s) for c, s in own}
    merged = [mine.pop(c.get("name"), (c, s)) for c, s in base if c.get("name") not in drop]
    redefined = [entry for entry in own if entry[0].get("name") in mine]
    return merged + redefined


def _validate_tables(raw: dict[str, Any], source: _Source) -> None:
    """The top-level tables and the [assignment] and [mnist] keys are known and typed."""
    tables = {"assignment", "tolerance", "mnist", "reference", "components"}
    for key in raw:
        if key not in tables:
            raise SpecError(f"{source.where_top(key)}: unknown table {key!r}"
                            f"{_suggest(key, tables)}")
    for table, cls in (("assignment", AssignmentKeys), ("mnist", MnistKeys)):
        hints = hints_of(cls)
        for key, value in raw.get(table, {}).items():
            if key not in hints:
                raise SpecError(f"{source.where_top(key)}: [{table}]: unknown key {key!r}"
                                f"{_suggest(key, hints)}")
            if problem := type_error(value, hints[key]):
                raise SpecError(f"{source.where_top(key)}: [{table}] key {key!r}: {problem}")


def load_assignment(name_or_path: str | Path = "modules", *,
                    check_references: bool = True) -> Assignment:
    """Load and validate an assignment; ``check_references`` also evaluates each check's
    reference expression on a sample input (needs PyTorch; skipped where it is missing)."""
    raw = _read(name_or_path)
    path, meta = raw.path, raw.tables.get("assignment", {})
    # The merged spec stands alone (a student bundle's assignment.toml is written from it).
    tables = {**raw.tables, "components": [c for c, _ in raw.components],
              "assignment": {k: v for k, v in meta.items() if k not in ("extends", "drop")}}
    components = tuple(_component(c, source) for c, source in raw.components)
    solution = meta.get("solution")
    assignment = Assignment(
        name=meta.get("name", path.parent.name),
        title=meta.get("title", path.parent.name),
        path=path,
        seed=int(meta.get("seed", 0)),
        check_timeout=float(meta.get("check_timeout", 20.0)),
        load_timeout=float(meta.get("load_timeout", 30.0)),
        forbidden_imports=tuple(meta.get("forbidden_imports", [])),
        tolerance=tables.get("tolerance", {}),
        components=components,
        mnist=tables.get("mnist"),
        solution=(REPO_ROOT / solution) if solution else None,
        reference_code=tables.get("reference", {}).get("code", ""),
        packages=tuple(meta.get("packages", [])),
        shims=tuple(_shim(s) for s in meta.get("shims", [])),
        raw=tables,
        aliases=tuple(meta.get("aliases", [])),
        extends=meta.get("extends"),
    )
    if check_references:
        sources = {c.name: s for c, (_, s) in zip(components, raw.components, strict=True)}
        check_reference_expressions(assignment, sources)
    return assignment


def _shim(raw: dict[str, Any]) -> Shim:
    if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and "." in raw[k]
                                            for k in ("api", "replacement")):
        raise SpecError(f"a shim needs api and replacement as module.attr: {raw!r}")
    return Shim(raw["api"], raw["replacement"], raw.get(
        "note", f"{raw['api']} is not available; graded with {raw['replacement']} in its place"))


def _component(raw: dict[str, Any], source: _Source) -> Component:
    if "name" not in raw or "kind" not in raw:
        raise SpecError(f"{source.path}: component without name or kind: {raw!r}")
    name = raw["name"]
    checks = raw.get("checks", [])
    for check in checks:
        _validate_check(check, name, source)
    _validate_component_keys(raw, {c["kind"] for c in checks}, source)
    base = {k: v for k, v in raw.items() if k != "checks"}
    specs = []
    for check in checks:
        fields = {**base, **{k: v for k, v in check.items() if k not in CHECK_KEYS}}
        params = {k: v for k, v in fields.items() if k in declared(check["kind"])}
        for key, value in params.items():
            if problem := type_error(value, type_of(check["kind"], key)):
                where = check if key in check else None
                raise source.error(name, where, key, f"key {key!r}: {problem}")
        _validate_dim_names(params, check, name, source)
        specs.append(CheckSpec(
            component=name,
            name=check.get("name", check["kind"]),
            kind=check["kind"],
            points=float(check.get("points", 1)),
            visibility=check.get("visibility", "public"),
            trials=int(check.get("trials", 1)),
            params=build(check["kind"], params),
            component_kind=raw["kind"],
            fields=fields,
        ))
    return Component(name, raw["kind"], tuple(raw.get("aliases", [])), tuple(specs))


def _validate_check(check: dict[str, Any], component: str, source: _Source) -> None:
    """A check's kind is known, and each of its own keys is a parameter of that kind."""
    kind = check.get("kind")
    if not isinstance(kind, str):
        raise source.error(component, check, "kind", "check without a kind (a string)")
    if kind not in KIND_PARAMS:
        raise source.error(component, check, "kind",
                           f"unknown check kind {kind!r}{_suggest(kind, KIND_PARAMS)}")
    for key, value in check.items():
        if key in CHECK_KEYS:
            if problem := type_error(value, CHECK_KEYS[key]):
                raise source.error(component, check, key, f"key {key!r}: {problem}")
        elif key not in declared(kind):
            raise source.error(component, check, key, _unknown(key, [kind], CHECK_KEYS))
    if check.get("visibility", "public") not in ("public", "hidden"):
        raise source.error(component, check, "visibility",
                           "visibility must be \"public\" or \"hidden\"")


def _validate_dim_names(params: dict[str, Any], check: dict[str, Any], component: str,
                        source: _Source) -> None:
    """Every size a shape or a constructor argument names is defined by ``dims``."""
    defined = {*params.get("dims", {}), *params.get("edge_dims", {})}
    used: list[tuple[str, Any]] = [("input", params.get("input") or []),
                                   ("init", params.get("init", [])),
                                   ("init_kwargs", list(params.get("init_kwargs", {}).values()))]
    for key in ("params", "state"):
        rules = params.get(key, {})
        for rule in rules.values() if isinstance(rules, dict) else []:
            used.append((key, rule.get("shape", []) if isinstance(rule, dict) else rule))
    for key, names in used:
        for dim in names:
            if isinstance(dim, str) and dim not in defined:
                where = check if key in check else None
                raise source.error(component, where, key,
                                   f"{key}: dimension {dim!r} is not defined by dims"
                                   f"{_suggest(dim, defined or ['(no dims)'])}")


def _validate_component_keys(raw: dict[str, Any], kinds: set[str], source: _Source) -> None:
    """A component's shared key must be a parameter of at least one of its check kinds."""
    readers = set().union(*(declared(k) for k in kinds)) if kinds else set()
    for key, value in raw.items():
        if key in COMPONENT_KEYS:
            if problem := type_error(value, COMPONENT_KEYS[key]):
                raise source.error(raw["name"], None, key, f"key {key!r}: {problem}")
        elif key not in readers:
            raise source.error(raw["name"], None, key, _unknown(key, sorted(kinds),
                                                                COMPONENT_KEYS))


def _unknown(key: str, kinds: list[str], own: dict[str, type]) -> str:
    valid = {*own, *(p for k in kinds for p in declared(k))}
    message = f"unknown key {key!r}{_suggest(key, valid)}"
    elsewhere = sorted(k for k in KIND_PARAMS if key in declared(k))
    if elsewhere:
        shown = ", ".join(elsewhere[:4]) + (", ..." if len(elsewhere) > 4 else "")
        where = f"kind {kinds[0]!r}" if len(kinds) == 1 else "any of this component's checks"
        message += f" (a parameter of {shown}, not of {where})"
    return message


def _suggest(word: str, valid: Any) -> str:
    close = difflib.get_close_matches(word, sorted(valid), n=1)
    return f" (did you mean {close[0]!r}?)" if close else f" (valid: {', '.join(sorted(valid))})"


@dataclass(frozen=True)
class _Source:
    """The TOML text, to point an error at a line (tomllib gives no positions)."""

    path: Path
    lines: list[str]

    def error(self, component: str, check: dict[str, Any] | None, key: str,
              message: str) -> SpecError:
        where = f"component {component}"
        if check is not None:
            where += f", check {json.dumps(check.get('name', check.get('kind')))}"
        return SpecError(f"{self._shown_path()}:{self.line_of(component, check, key)}: "
                         f"{where}: {message}")

    def line_has(self, component: str, check: dict[str, Any], key: str) -> bool:
        """Whether the check's own line (found by its name) sets ``key``."""
        start, end = self._block(component)
        marker = json.dumps(check.get("name", ""))
        pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
        return any(marker in line and pattern.search(line) for line in self.lines[start:end])

    def where_top(self, key: str) -> str:
        """``file:line`` of the first line that sets ``key`` (or opens the table ``key``)."""
        pattern = re.compile(rf"^\s*(\[{re.escape(key)}\]|{re.escape(key)}\s*=)")
        line = next((i for i, text in enumerate(self.lines) if pattern.search(text)), 0)
        return f"{self._shown_path()}:{line + 1}"

    def line_of(self, component: str, check: dict[str, Any] | None, key: str) -> int:
        """1-based line of ``key`` in the component's block (in the check's line if given)."""
        start, end = self._block(component)
        pattern = re.compile(rf"(^|[{{,\s]){re.escape(key)}\s*=")
        block = range(start, end)
        if check is not None:
            marker = json.dumps(check["name"]) if "name" in check else None
            rows = [i for i in block if marker and marker in self.lines[i]]
            block = rows or block
            found = [i for i in block if pattern.search(self.lines[i])]
        else:
            top = re.compile(rf"^\s*{re.escape(key)}\s*=")
            found = [i for i in block if top.search(self.lines[i])]
        return (found or list(block) or [0])[0] + 1

    def _block(self, component: str) -> tuple[int, int]:
        heads = [i for i, line in enumerate(self.lines)
                 if re.match(r"\s*\[\[\s*components\s*\]\]", line)]
        name = re.compile(rf"^\s*name\s*=\s*{re.escape(json.dumps(component))}")
        for head, end in zip(heads, [*heads[1:], len(self.lines)], strict=True):
            if any(name.search(line) for line in self.lines[head:end]):
                return head, end
        return 0, len(self.lines)

    def _shown_path(self) -> str:
        try:
            return str(self.path.relative_to(Path.cwd()))
        except ValueError:
            return str(self.path)


def sample_dims(spec: dict[str, Any], rng: np.random.Generator, trial: int) -> dict[str, Any]:
    """Draw one set of sizes: [lo, hi] ints inclusive, [lo, hi] floats uniform, an expression,
    or ``{ cycle = [a, b, ...] }``: trial i takes the i-th value (mod the count), so every
    value is exercised (a hard-coded kernel size fails). Degenerate sizes (batch 1, kernel 1)
    belong to edge-case checks of their own, not to these ranges.
    """
    dims: dict[str, Any] = {}
    for name, rule in spec.items():
        if isinstance(rule, str):
            dims[name] = eval_expr(rule, dims)
        elif isinstance(rule, list) and all(isinstance(v, int) for v in rule):
            lo, hi = rule
            dims[name] = int(rng.integers(lo, hi + 1))
        elif isinstance(rule, dict) and "cycle" in rule:
            value = rule["cycle"][trial % len(rule["cycle"])]
            dims[name] = tuple(value) if isinstance(value, list) else value  # a pair
        elif isinstance(rule, list):
            dims[name] = float(rng.uniform(*rule))
        else:
            dims[name] = rule
    return dims


def param_shapes(params: dict[str, Any], dims: dict[str, Any]) -> dict[str, tuple[int, ...]]:
    """The shape of each parameter the spec's ``params`` gives for these dims; a parameter
    written ``{ shape = [...], when = "expr" }`` exists only where the expression holds."""
    shapes = {}
    for name, rule in params.items():
        if isinstance(rule, dict):
            if "when" in rule and not eval_expr(rule["when"], dims):
                continue
            rule = rule["shape"]
        shapes[name] = shape_of(rule, dims)
    return shapes


def shape_of(names: list[Any], dims: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(dims[n]) if isinstance(n, str) else int(n) for n in names)


def eval_expr(expr: str, dims: dict[str, Any]) -> Any:
    """Evaluate an instructor-written arithmetic expression (trusted spec) over the dims."""
    return eval(expr, dict(SPEC_GLOBALS), {**dims, "sqrt": math.sqrt})  # noqa: S307


GRADER_PREFIX = "grader:"  # `optimizer = "grader:adam"`: the grader's own, not a component


def network_names(cfg: dict[str, Any]) -> list[str]:
    """The components a network configuration uses: container, layers, criterion, optimizer
    (unless the grader's own)."""
    layers = [layer[0] for layer in cfg["layers"]]
    optimizer = [] if cfg["optimizer"].startswith(GRADER_PREFIX) else [cfg["optimizer"]]
    return list(dict.fromkeys([cfg.get("container", "Sequential"), *layers, cfg["criterion"],
                               *optimizer]))

# -- authoring check: every reference expression runs on sample inputs ---------------------
#
# A reference expression with a typo (``paddng``), a helper called wrongly or sizes that
# PyTorch rejects (reflect padding wider than the image) would otherwise fail in the middle
# of grading, as a zero for every student. Each check's trials are drawn exactly as grading
# draws them and its ``reference`` is evaluated in PyTorch; the first failure stops the load
# with the file, the line and, for a misspelt name, the closest name in scope.


HERE = Path(__file__).resolve().parent
# The code whose behaviour decides whether a reference expression passes on sample input.
_CHECKING_CODE = ("spec.py", "check_params.py", "references.py", "checks/data.py")


def check_reference_expressions(assignment: Assignment, sources: dict[str, _Source]) -> None:
    """Raise SpecError at the first reference expression that fails on a sample input.

    Done once per spec text, engine version and PyTorch version (a marker in the reference
    cache), so that grading does not import PyTorch only to re-check an unchanged spec."""
    if importlib.util.find_spec("torch") is None:  # a student's environment without PyTorch
        return
    text = json.dumps(assignment.raw, sort_keys=True, default=str)
    engine = [(HERE / f).read_text() for f in _CHECKING_CODE]
    refcache.run_once(lambda: _check_all(_Keyed(text, (assignment, sources))),
                      purpose="reference-expressions", spec=text, engine=engine)


@dataclass(frozen=True)
class _Keyed:
    """Hashed and compared by ``key`` only: the same spec text is checked once per process."""

    key: str
    value: Any = field(compare=False)


@functools.lru_cache(maxsize=16)
def _check_all(keyed: _Keyed) -> None:
    assignment, sources = keyed.value
    for component in assignment.components:
        for check in component.checks:
            p = check.params
            used = getattr(p, "sequence", None) != []  # an empty sequence runs no forward
            if used and getattr(p, "reference", None) and getattr(p, "input", None):
                _check_one(assignment, check, sources[component.name])


def _check_one(assignment: Assignment, check: CheckSpec, source: _Source) -> None:
    from autograder.checks.data import make_array  # the grader's own data, as in grading
    from autograder.references import torch_reference  # PyTorch: only when checking

    p = check.params
    spec_dims = {**p.dims, **p.edge_dims}
    for trial in range(check.trials):
        name = f"{check.component}/{check.name}/{trial}".encode()
        rng = np.random.default_rng([assignment.seed, zlib.crc32(name)])
        try:
            dims = sample_dims(spec_dims, rng, trial)
        except Exception as exc:  # noqa: BLE001 - the instructor's expression, reported
            raise _error(source, check, "dims", f"dims: {_what(exc, spec_dims)}") from None
        params: dict[str, np.ndarray] = {}
        try:
            x = make_array(p.input_dist, tuple(_size(n, dims) for n in p.input), rng,
                           p.input_scale, p.input_shift)
            params = {k: rng.standard_normal(s) for k, s in param_shapes(getattr(p, "params", {}),
                                                                  dims).items()}
            kind = getattr(p, "target", None)
            target = None if kind is None else make_array(kind, x.shape, rng)
            state = {k: make_array(r.get("dist", "normal"), tuple(_size(n, dims)
                                                                 for n in r["shape"]), rng)
                     for k, r in getattr(p, "state", {}).items() if "shape" in r}
            torch_reference(p.reference, x, {**state, **params}, dims, target,
                            definitions=assignment.reference_code)
        except Exception as exc:  # noqa: BLE001 - the instructor's expression, reported
            scope = [*dims, *params, "x", "t", "torch", "F", "math", "np",
                     *_helper_names(assignment.reference_code)]
            raise _error(source, check, "reference",
                         f"the reference expression fails on a sample input (sizes "
                         f"{_shown(dims)}): {_what(exc, scope)}") from None


def _size(name: Any, dims: dict[str, Any]) -> int:
    return int(dims[name]) if isinstance(name, str) else int(name)


def _what(exc: Exception, scope: Any) -> str:
    text = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
    if isinstance(exc, NameError) and exc.name:
        text += _suggest(exc.name, scope)
    return text


def _shown(dims: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in dims.items())


@functools.lru_cache(maxsize=8)
def _helper_names(code: str) -> tuple[str, ...]:
    try:
        tree = parse(code)
    except SyntaxError:
        return ()
    return tuple(n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef)))


def _error(source: _Source, check: CheckSpec, key: str, message: str) -> SpecError:
    raw = {"name": check.name, "kind": check.kind}
    in_check = source.line_has(check.component, raw, key)
    return source.error(check.component, raw if in_check else None, key, message)
