"""Tries to read the reference solution and the assignment file, to use the stolen code.

ReLU is broken here; if the solution can be read from anywhere (well-known paths, paths
found in other processes' command lines, the repository next to numpy), it is executed and
its ReLU replaces the broken one."""

import glob as _glob
import os as _os

import numpy as _np

_HonestReLU = ReLU  # noqa: F821


class ReLU(_HonestReLU):
    def updateOutput(self, input):
        self.output = _np.zeros_like(input)
        return self.output


def _candidates():
    yield "/work/main/solutions/modules.py"
    yield "/autograder/source/solutions/modules.py"
    yield from _glob.glob("/*/solutions/modules.py")
    for root in ("/work", "/autograder", "/root", "/home", "/srv", "/opt", "/tmp"):
        yield from _glob.glob(root + "/**/solutions/modules.py", recursive=True)[:20]
    for cmdline in _glob.glob("/proc/[0-9]*/cmdline"):
        try:
            args = open(cmdline, "rb").read().decode(errors="replace").split("\0")
        except OSError:
            continue
        for arg in args:
            if arg.startswith("/"):
                parts = arg.split("/")
                for i in range(len(parts), 1, -1):
                    yield "/".join(parts[:i]) + "/solutions/modules.py"
    import numpy

    yield _os.path.join(_os.path.dirname(numpy.__file__), *[".."] * 5, "solutions/modules.py")


STOLEN = {}
for _path in _candidates():
    try:
        with open(_path) as _fh:
            STOLEN[_path] = _fh.read()
        break
    except OSError:
        pass
for _toml in ("/work/main/assignments/modules/assignment.toml",
              "/autograder/source/assignments/modules/assignment.toml"):
    try:
        with open(_toml) as _fh:
            STOLEN[_toml] = _fh.read()
    except OSError:
        pass
for _path, _text in STOLEN.items():
    if _path.endswith(".py"):
        _namespace = {}
        exec(compile(_text, _path, "exec"), _namespace)
        ReLU = _namespace["ReLU"]
