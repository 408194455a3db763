"""Worker process: runs untrusted student code and answers the grader's requests.

Exec'd by ``boot.py`` as ``python -I -S <this file>`` in a fresh directory, already limited and
(when the grader is root) running as an unprivileged user. ``-S``: no ``site`` processing, so
no ``sitecustomize`` or ``.pth`` file can run code here; the site-packages directories the
grader names (``NNGRADE_SITE``) are put on ``sys.path`` by hand. The grader talks to the worker
over stdin/stdout (moved to private descriptors at start-up); student output (stdout and
stderr) goes to stderr, a pipe the grader drains into a bounded buffer. It imports only the
standard library and NumPy; sibling files are loaded by path under private names so that
student code cannot import the grader's packages.

Nothing here is trusted by the grader: student code runs in this process and could rewrite
any of it. The grader validates every reply and computes every expected value itself.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import json
import linecache
import os
import signal
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _display(*objs: Any, **kwargs: Any) -> None:
    """Jupyter's ``display``, which a notebook calls without importing it: shown nowhere."""


def _load_sibling(name: str, path: Path) -> types.ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


class ForbiddenImportError(ImportError):
    """An import the assignment's rules forbid (e.g. torch)."""


class ForbiddenImports(importlib.abc.MetaPathFinder):
    """Makes ``import torch`` (and the like) fail with a message that names the rule.

    This covers ``import``, ``__import__`` and ``importlib.import_module``. It is a courtesy
    message, not the guarantee: student code can remove it from ``sys.meta_path``. The
    guarantee is that the grader hides those packages' files from the worker (see
    docs/security.md)."""

    def __init__(self, names: list[str]):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in self.names:
            raise ForbiddenImportError(
                f"import of '{fullname}' is not allowed in this assignment "
                f"(forbidden: {', '.join(sorted(self.names))})",
                name=fullname,
            )
        return None

    def install(self) -> None:
        for name in list(sys.modules):  # nothing forbidden may be reachable already loaded
            if name.split(".")[0] in self.names:
                del sys.modules[name]
        sys.meta_path.insert(0, self)


class _ShimLoader(importlib.abc.Loader):
    """The real loader of a module, then the shims put into the loaded module."""

    def __init__(self, loader: Any, patch: Any):
        self.loader = loader
        self.patch = patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module) -> None:
        self.loader.exec_module(module)
        self.patch(module)


class CompatShims(importlib.abc.MetaPathFinder):
    """Puts back APIs removed from libraries since the course was written (the assignment's
    ``shims``), e.g. ``skimage.util.pad`` as ``numpy.pad``, and records which ones student code
    called. Lazy: nothing is imported until student code imports the module concerned, so an
    unused library costs nothing."""

    def __init__(self, shims: list[list[str]]):
        self.wanted: dict[str, dict[str, str]] = {}  # module -> {attr: replacement}
        for api, replacement in shims:
            module, attr = api.rsplit(".", 1)
            self.wanted.setdefault(module, {})[attr] = replacement
        self.used: set[str] = set()

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in self.wanted:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ShimLoader(spec.loader, self.patch)
                return spec
        return None

    def patch(self, module: types.ModuleType) -> None:
        for attr, replacement in self.wanted[module.__name__].items():
            try:
                getattr(module, attr)
                continue  # still provided by the installed version: leave it alone
            except AttributeError:
                pass
            setattr(module, attr, self._recorded(f"{module.__name__}.{attr}", replacement))

    def _recorded(self, api: str, replacement: str) -> Any:
        owner, name = replacement.rsplit(".", 1)
        real = getattr(importlib.import_module(owner), name)
        used = self.used

        def shim(*args, **kwargs):
            used.add(api)
            return real(*args, **kwargs)

        shim.__name__ = name
        shim.__doc__ = f"{api}, removed from its library: {replacement} in its place."
        return shim

    def install(self) -> None:
        if self.wanted:
            sys.meta_path.insert(0, self)


class Handler:
    """Answers the grader's requests: one ``op_<name>`` method per operation."""

    def __init__(self, wire: types.ModuleType, np: types.ModuleType,
                 shims: CompatShims | None = None):
        self.wire = wire
        self.np = np
        self.shims = shims
        self.objects: dict[int, Any] = {}
        self.next_id = 1
        self.namespace: dict[str, Any] = {}
        self.filename = "submission.py"
        self.probes = _load_sibling("_nngrade_probes", HERE / "probes.py")
        self.training: Any = None  # the MNIST training in progress (train.Training)

    # -- values ---------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Replace handles in a decoded request by the worker-side objects."""
        if isinstance(value, self.wire.Handle):
            return self.objects[value.ident]
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        if isinstance(value, dict):
            return {k: self.resolve(v) for k, v in value.items()}
        return value

    def keep(self, obj: Any) -> Any:
        ident = self.next_id
        self.next_id += 1
        self.objects[ident] = obj
        return self.wire.Handle(ident)

    def lookup(self, name: str) -> Any:
        if name.startswith("probe:"):
            return getattr(self.probes, name[len("probe:"):])
        if name not in self.namespace:
            raise LookupError(f"'{name}' is not defined by the submission")
        return self.namespace[name]

    def target(self, request: dict) -> Any:
        ref = request["target"]
        return self.lookup(ref) if isinstance(ref, str) else self.resolve(ref)

    # -- operations -----------------------------------------------------------------
    def op_load(self, request: dict) -> Any:
        """Execute cells; with ``append``, in the namespace of the cells loaded before."""
        if not (request.get("append") and self.namespace):
            module = types.ModuleType("submission")
            module.__file__ = request["filename"]
            sys.modules["submission"] = module
            self.namespace = module.__dict__
            if request.get("notebook"):  # IPython's builtin: shows a value, returns None
                self.namespace["display"] = _display
        self.filename = request["filename"]
        errors = []
        labels = request.get("labels") or [self.filename] * len(request["cells"])
        for index, (source, name) in enumerate(zip(request["cells"], labels, strict=True)):
            linecache.cache[name] = (len(source), None, source.splitlines(True), name)
            try:
                exec(compile(source, name, "exec"), self.namespace)
            except BaseException as exc:  # noqa: BLE001 - SystemExit from students too
                errors.append({"cell": index, "error": self.describe(exc)})
        names = sorted(k for k in self.namespace if not k.startswith("__"))
        return {"errors": errors, "names": names}

    def reseed(self, seed: int) -> None:
        """Seed ``random`` and ``np.random`` (sent along with a request's ``reseed``)."""
        import random

        random.seed(seed)
        self.np.random.seed(seed)

    def op_new(self, request: dict) -> Any:
        cls = self.lookup(request["name"])
        args = self.resolve(request.get("args", []))
        obj = cls(*args, **self.resolve(request.get("kwargs", {})))
        for attr, value in self.resolve(request.get("set") or {}).items():
            setattr(obj, attr, value)
        return self.keep(obj)

    def op_put(self, request: dict) -> Any:
        return self.keep(self.resolve(request["value"]))

    def op_get(self, request: dict) -> Any:
        obj = self.target(request)
        for attr in request.get("path", []):
            obj = obj[attr] if isinstance(attr, int) else getattr(obj, attr)
        return self.keep(obj) if request.get("keep") else obj

    def op_get_attrs(self, request: dict) -> Any:
        obj = self.target(request)
        return {name: getattr(obj, name) for name in request["names"]}

    def op_set(self, request: dict) -> Any:
        setattr(self.target(request), request["attr"], self.resolve(request["value"]))

    def op_call(self, request: dict) -> Any:
        func = self.target(request)
        if request.get("method"):
            func = getattr(func, request["method"])
        args = self.resolve(request.get("args", []))
        result = func(*args, **self.resolve(request.get("kwargs", {})))
        if result is None and request.get("fallback"):
            result = getattr(self.target(request), request["fallback"], None)
        return self.keep(result) if request.get("keep") else result

    def op_shares(self, request: dict) -> Any:
        """Whether two worker objects share memory (getParameters must return the arrays)."""
        a, b = (self.op_get(part) for part in (request["a"], request["b"]))
        return bool(self.np.may_share_memory(a, b)) if all(
            isinstance(v, self.np.ndarray) for v in (a, b)) else a is b

    def op_eval_many(self, request: dict) -> Any:
        """Call one method on many inputs (finite differences) in one round trip."""
        obj = self.target(request)
        method = getattr(obj, request["method"])
        originals = {}
        outputs = []
        for item in request["items"]:
            for attr, value in item.get("set", {}).items():
                originals.setdefault(attr, getattr(obj, attr))
                setattr(obj, attr, value)
            result = method(*self.resolve(item.get("args", [])))
            if result is None and request.get("fallback"):
                result = getattr(obj, request["fallback"], None)
            outputs.append(self.np.array(result, copy=True) if result is not None else None)
        for attr, value in originals.items():
            setattr(obj, attr, value)
        return outputs

    def op_shims_used(self, request: dict) -> Any:
        return sorted(self.shims.used) if self.shims else []

    def op_train(self, request: dict) -> Any:
        """Build the network and train it to its first checkpoint (``cfg["check_every"]``;
        unset: the end); ``train_more`` continues. The reply holds the test predictions
        there, never a score: the grader alone has the test labels."""
        train = _load_sibling("_nngrade_train", HERE / "train.py")
        self.training = None  # a new training replaces the one in progress
        self.training = train.Training(
            self.namespace, request["cfg"], request["x_train"], request["y_train"],
            request["x_test"], request["seed"],
        )
        return self.op_train_more(request)

    def op_train_more(self, request: dict) -> Any:
        """Train the network of ``train`` on to its next checkpoint (or the end)."""
        if self.training is None:
            raise RuntimeError("no training in progress")
        try:
            reply = self.training.advance()
        except BaseException:
            self.training = None  # a failed training cannot go on
            raise
        if reply["finished"]:
            self.training = None  # frees the network and the data
        return reply

    # -- errors ---------------------------------------------------------------------
    def describe(self, exc: BaseException) -> dict:
        # The submission's own frames, named by qualified name ("ReLU.updateOutput": every
        # layer has an updateOutput), the innermost last.
        frames = [(frame.f_code.co_filename, lineno, frame.f_code.co_qualname)
                  for frame, lineno in traceback.walk_tb(exc.__traceback__)
                  if frame.f_code.co_filename.startswith(self.filename)]
        lines = [f'  File "{name}", line {lineno}, in {where}\n'
                 f"    {linecache.getline(name, lineno).strip()}\n"
                 for name, lineno, where in frames[-3:]]
        return {
            "type": type(exc).__name__,
            "message": str(exc)[:2000],
            "traceback": "".join(lines)[-4000:],
        }

    def handle(self, request: dict) -> dict:
        op = getattr(self, "op_" + str(request.get("op")), None)
        if op is None:
            return {"error": {"type": "ProtocolError", "message": f"unknown op {request!r}"}}
        try:
            if "reseed" in request:  # a seed sent along with the request: one round trip fewer
                self.reseed(request["reseed"])
            value = op(request)
        except BaseException as exc:  # noqa: BLE001 - any student failure is data
            return {"error": self.describe(exc)}
        return {"ok": value}


def _redirect_stdio() -> tuple[Any, Any]:
    """Keep the protocol on private descriptors; student stdout and stderr both go to fd 2,
    the output pipe the grader drains (and caps)."""
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb")
    null_fd = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null_fd, 0)
    os.close(null_fd)
    os.dup2(2, 1)
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    sys.stderr = os.fdopen(2, "w", buffering=1, closefd=False)
    return proto_in, proto_out


def _sibling_path(name: str) -> Path:
    """Sibling files sit next to this one in the worker's copy, one level up in the repo."""
    return HERE / name if (HERE / name).exists() else HERE.parent / name


def warm_blas(np: types.ModuleType) -> None:
    """One 512 x 512 float32 product before any student code runs.

    OpenBLAS maps a 32 MB packing buffer on its first product. Measured here with one
    thread: when that first product is small, large products stay up to 2.5x slower for
    the rest of the process (a Conv2d weight gradient 20 ms instead of 8 ms, with the same
    instruction count under callgrind); writing the whole buffer once, or one product
    that fills it, avoids it. This costs about 10 ms per worker. docs/performance.md."""
    block = np.ones((512, 512), np.float32)
    block @ block


def reap_children() -> None:
    """Collect children student code started and left exited: zombies would hold the worker
    user's process slots (RLIMIT_NPROC) and starve BLAS threads and later workers. Done
    between requests only, so that student code waiting for its own children still can."""
    while True:
        try:
            pid, _status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main() -> None:
    # Past the file size limit, writes fail with EFBIG (an exception student code sees)
    # instead of SIGXFSZ killing the worker.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    proto_in, proto_out = _redirect_stdio()
    sys.path.extend(p for p in os.environ.get("NNGRADE_SITE", "").split(os.pathsep) if p)
    wire = _load_sibling("_nngrade_wire", _sibling_path("wire.py"))
    import numpy as np

    warm_blas(np)
    forbidden = [n for n in os.environ.get("NNGRADE_FORBIDDEN", "").split(",") if n]
    ForbiddenImports(forbidden).install()
    shims = CompatShims(json.loads(os.environ.pop("NNGRADE_SHIMS", "") or "[]"))
    shims.install()
    handler = Handler(wire, np, shims)
    write = wire.write_message
    write(proto_out, {"ok": {"ready": True, "uid": os.getuid(),
                             "isolation": os.environ.get("NNGRADE_ISOLATION", "none")}})
    while True:
        try:
            text, blob = wire.read_frame(proto_in)
        except EOFError:
            return
        request = wire.decode(text, blob)
        started = time.perf_counter()
        reply = handler.handle(request)
        reap_children()
        reply["seconds"] = time.perf_counter() - started
        reply["id"] = request.get("id") if isinstance(request, dict) else None
        try:
            write(proto_out, reply)
        except (ValueError, TypeError) as exc:  # unencodable value
            write(proto_out, {"error": {"type": "WireError", "message": str(exc)},
                              "id": reply["id"]})


if __name__ == "__main__":
    main()
