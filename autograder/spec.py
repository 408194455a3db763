"""Assignment definitions: components, checks, points, tolerances, as data (TOML)."""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parent.parent
ASSIGNMENTS_DIR = REPO_ROOT / "assignments"
CHECK_ONLY_KEYS = {"kind", "name", "points", "visibility", "trials"}
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
    fields: dict[str, Any]  # component keys overlaid by the check's own keys

    @property
    def hidden(self) -> bool:
        return self.visibility == "hidden"

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


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
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{path}: invalid TOML: {exc}") from None
    meta = raw.get("assignment", {})
    components = tuple(_component(c) for c in raw.get("components", []))
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


def _component(raw: dict[str, Any]) -> Component:
    if "name" not in raw or "kind" not in raw:
        raise SpecError(f"component without name or kind: {raw!r}")
    base = {k: v for k, v in raw.items() if k != "checks"}
    checks = []
    for check in raw.get("checks", []):
        if "kind" not in check:
            raise SpecError(f"{raw['name']}: check without kind: {check!r}")
        visibility = check.get("visibility", "public")
        if visibility not in ("public", "hidden"):
            raise SpecError(f"{raw['name']}: visibility must be public or hidden")
        fields = {**base, **{k: v for k, v in check.items() if k not in CHECK_ONLY_KEYS}}
        checks.append(CheckSpec(
            component=raw["name"],
            name=check.get("name", check["kind"]),
            kind=check["kind"],
            points=float(check.get("points", 1)),
            visibility=visibility,
            trials=int(check.get("trials", 1)),
            fields=fields,
        ))
    return Component(raw["name"], raw["kind"], tuple(raw.get("aliases", [])), tuple(checks))


def sample_dims(spec: dict[str, Any], rng: np.random.Generator, trial: int) -> dict[str, Any]:
    """Draw one set of sizes: [lo, hi] ints inclusive, [lo, hi] floats uniform, or an expression.

    The first trial takes the smallest batch, so batch size 1 is always exercised.
    """
    dims: dict[str, Any] = {}
    for name, rule in spec.items():
        if isinstance(rule, str):
            dims[name] = eval_expr(rule, dims)
        elif isinstance(rule, list) and all(isinstance(v, int) for v in rule):
            lo, hi = rule
            dims[name] = lo if (name == "batch" and trial == 0) else int(rng.integers(lo, hi + 1))
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
