"""Assignment definitions: components, checks, points, tolerances, as data (TOML)."""

from __future__ import annotations

import difflib
import json
import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from autograder import solution_source
from autograder.check_params import (
    CHECK_KEYS,
    COMPONENT_KEYS,
    KIND_PARAMS,
    CheckParams,
    build,
    declared,
    type_error,
    type_of,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
# Formulas in a spec are the instructor's (trusted) code; the small builtins set keeps them
# arithmetic, and __import__ is there because NumPy imports lazily inside some calls.
SPEC_GLOBALS = {"__builtins__": {"__import__": __import__, "abs": abs, "min": min, "max": max,
                                 "float": float, "int": int, "len": len, "range": range}}


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
    raw: dict[str, Any] = field(repr=False, default_factory=dict)

    def component(self, name: str) -> Component:
        for comp in self.components:
            if name in comp.names:
                return comp
        raise KeyError(name)

    def network_config(self, cfg: dict[str, Any], defined: set[str]) -> tuple[dict, list[str]]:
        """``cfg`` (a network for ``train_and_predict``: container, layers, criterion,
        optimizer) with each component name replaced by the one the submission defines
        (``SoftMax`` may be ``Softmax``), and the names it does not define at all."""
        rename = {}
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
    """An assignment is a TOML path, a directory holding assignment.toml, or a name: in the
    repository's assignments/, else the assignment.toml of a student bundle in the current
    directory (written by `nngrade release`) when its name matches."""
    candidates = [Path(name_or_path), Path(name_or_path) / "assignment.toml",
                  ASSIGNMENTS_DIR / str(name_or_path) / "assignment.toml"]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    local = Path("assignment.toml")
    if local.is_file() and _declared_name(local) == str(name_or_path):
        return local.resolve()
    known = sorted(p.parent.name for p in ASSIGNMENTS_DIR.glob("*/assignment.toml"))
    raise SpecError(f"unknown assignment {str(name_or_path)!r} (known: {', '.join(known)})")


def _declared_name(path: Path) -> str | None:
    try:
        return tomllib.loads(path.read_text()).get("assignment", {}).get("name")
    except (OSError, tomllib.TOMLDecodeError):
        return None


def load_assignment(name_or_path: str | Path = "modules") -> Assignment:
    path = find_assignment(name_or_path)
    text = path.read_text()
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}") from None
    meta = raw.get("assignment", {})
    source = _Source(path, text.splitlines())
    components = tuple(_component(c, source) for c in raw.get("components", []))
    solution = meta.get("solution")
    return Assignment(
        name=meta.get("name", path.parent.name),
        title=meta.get("title", path.parent.name),
        path=path,
        seed=int(meta.get("seed", 0)),
        check_timeout=float(meta.get("check_timeout", 20.0)),
        load_timeout=float(meta.get("load_timeout", 30.0)),
        forbidden_imports=tuple(meta.get("forbidden_imports", [])),
        tolerance=raw.get("tolerance", {}),
        components=components,
        mnist=raw.get("mnist"),
        solution=(REPO_ROOT / solution) if solution else None,
        reference_code=raw.get("reference", {}).get("code", ""),
        packages=tuple(meta.get("packages", [])),
        shims=tuple(_shim(s) for s in meta.get("shims", [])),
        raw=raw,
    )


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
            dims[name] = rule["cycle"][trial % len(rule["cycle"])]
        elif isinstance(rule, list):
            dims[name] = float(rng.uniform(*rule))
        else:
            dims[name] = rule
    return dims


def shape_of(names: list[Any], dims: dict[str, Any]) -> tuple[int, ...]:
    return tuple(int(dims[n]) if isinstance(n, str) else int(n) for n in names)


def eval_expr(expr: str, dims: dict[str, Any]) -> Any:
    """Evaluate an instructor-written arithmetic expression (trusted spec) over the dims."""
    return eval(expr, dict(SPEC_GLOBALS), {**dims, "sqrt": math.sqrt})  # noqa: S307


def network_names(cfg: dict[str, Any]) -> list[str]:
    """The components a network configuration uses: container, layers, criterion, optimizer."""
    layers = [layer[0] for layer in cfg["layers"]]
    return list(dict.fromkeys([cfg.get("container", "Sequential"), *layers, cfg["criterion"],
                               cfg["optimizer"]]))
