"""Build the Gradescope autograder zip for one assignment.

Layout of the zip (Gradescope unpacks it into ``/autograder/source``)::

    setup.sh               installs Python >= 3.11, a virtualenv, the pinned packages, the engine
    run_autograder         grades one submission (``autograder.gradescope.run``)
    requirements.txt       exact versions of the engine's dependencies, as tested here
    engine/                the ``autograder`` package (MNIST data included) and a pyproject.toml
    assignment.toml        the full assignment configuration, hidden checks included
    nngrade-bundle.json    what run_autograder needs to know: the files above, visibility

Nothing of the student bundle goes in: no templates, examples or tests. The zip is
reproducible: same inputs, same bytes.
"""

from __future__ import annotations

import json
import re
import shlex
import zipfile
from importlib import metadata
from pathlib import Path

import autograder
from autograder.gradescope.results import DEFAULT_HIDDEN_VISIBILITY, VISIBILITIES
from autograder.gradescope.run import CONFIG_NAME, PLATFORM_TIMEOUT, grading_budget
from autograder.spec import Assignment

TEMPLATES = Path(__file__).resolve().parent / "templates"
PACKAGE_DIR = Path(autograder.__file__).resolve().parent
DISTRIBUTION = "nngrade"
EXTRA_REQUIREMENTS = ("jsonschema>=4",)  # run_autograder validates what it writes
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
STORED_SUFFIXES = (".gz", ".zip")  # already compressed


class BundleError(Exception):
    """The bundle cannot be built; the message says why."""


def build_bundle(assignment: Assignment, output: Path,
                 hidden_visibility: str = DEFAULT_HIDDEN_VISIBILITY,
                 torch_index_url: str = "",
                 platform_timeout: float = PLATFORM_TIMEOUT) -> list[str]:
    """Write the zip to ``output``; return the names of the files in it."""
    if hidden_visibility not in VISIBILITIES:
        raise BundleError(f"hidden visibility must be one of {', '.join(VISIBILITIES)}")
    if grading_budget(platform_timeout) <= 0:
        raise BundleError(f"a platform timeout of {platform_timeout:g} s leaves no time to "
                          "grade: give at least 2 minutes")
    files = bundle_files(assignment, hidden_visibility, torch_index_url, platform_timeout)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp = output.with_name(output.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, (data, mode) in sorted(files.items()):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = (0o100000 | mode) << 16  # a regular file with this mode
            info.compress_type = (zipfile.ZIP_STORED if name.endswith(STORED_SUFFIXES)
                                  else zipfile.ZIP_DEFLATED)
            zf.writestr(info, data)
    tmp.replace(output)
    return sorted(files)


def bundle_files(assignment: Assignment, hidden_visibility: str, torch_index_url: str,
                 platform_timeout: float = PLATFORM_TIMEOUT) -> dict[str, tuple[bytes, int]]:
    requirements = pinned_requirements()
    torch = next((r for r in requirements if r.startswith("torch==")), "torch")
    files: dict[str, tuple[bytes, int]] = {
        "setup.sh": (render("setup.sh", TORCH_REQUIREMENT=torch,
                            TORCH_INDEX_URL=torch_index_url), 0o755),
        "run_autograder": ((TEMPLATES / "run_autograder").read_bytes(), 0o755),
        "requirements.txt": (("\n".join(requirements) + "\n").encode(), 0o644),
        "assignment.toml": (assignment.path.read_bytes(), 0o644),
    }
    config = {"assignment": "assignment.toml", "hidden_visibility": hidden_visibility,
              "engine_version": engine_version(), "platform_timeout": platform_timeout}
    files[CONFIG_NAME] = ((json.dumps(config, indent=2) + "\n").encode(), 0o644)
    files.update(engine_files())
    return files


def render(template: str, **values: str) -> bytes:
    text = (TEMPLATES / template).read_text()
    for key, value in values.items():
        text = text.replace(f"@@{key}@@", shlex.quote(value))
    return text.encode()


def engine_version() -> str:
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        raise BundleError(f"the {DISTRIBUTION} distribution is not installed: run "
                          "`pip install -e .` in the repository first") from None


def engine_requirements() -> list[str]:
    """The engine's own dependencies (no extras), plus what the bundle adds."""
    engine_version()
    declared = [r for r in metadata.requires(DISTRIBUTION) or [] if "extra ==" not in r]
    return [*declared, *EXTRA_REQUIREMENTS]


def pinned_requirements() -> list[str]:
    """``name==version`` of each dependency as installed here, where the tests passed."""
    pins = []
    for requirement in engine_requirements():
        name = re.match(r"[A-Za-z0-9_.-]+", requirement).group()
        try:
            version = metadata.version(name).split("+")[0]  # 2.13.0+cpu -> 2.13.0
        except metadata.PackageNotFoundError:
            raise BundleError(f"{name} is not installed; install it and rebuild") from None
        pins.append(f"{name}=={version}")
    return pins


def engine_files() -> dict[str, tuple[bytes, int]]:
    """The installed ``autograder`` package as a source tree pip can install."""
    files: dict[str, tuple[bytes, int]] = {}
    data: list[str] = []
    for path in sorted(PACKAGE_DIR.rglob("*")):
        rel = path.relative_to(PACKAGE_DIR)
        if (not path.is_file() or path.suffix == ".pyc"
                or any(p.startswith(".") or p == "__pycache__" for p in rel.parts)):
            continue
        files[f"engine/autograder/{rel.as_posix()}"] = (path.read_bytes(), 0o644)
        if path.suffix != ".py":
            data.append(rel.as_posix())
    files["engine/pyproject.toml"] = (engine_pyproject(data).encode(), 0o644)
    return files


def engine_pyproject(package_data: list[str]) -> str:
    """Written here rather than copied: the bundle must not depend on the repository layout."""
    def toml_list(items: list[str]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    return (
        '[build-system]\nrequires = ["setuptools>=68"]\n'
        'build-backend = "setuptools.build_meta"\n\n'
        f'[project]\nname = "{DISTRIBUTION}"\nversion = "{engine_version()}"\n'
        'requires-python = ">=3.11"\n'
        f"dependencies = {toml_list(engine_requirements())}\n\n"
        '[project.scripts]\nnngrade = "autograder.cli:main"\n\n'
        '[tool.setuptools.packages.find]\ninclude = ["autograder*"]\n\n'
        f"[tool.setuptools.package-data]\nautograder = {toml_list(package_data)}\n"
    )
