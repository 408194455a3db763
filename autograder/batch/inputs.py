"""Find the submissions in what an instructor downloaded: one ``Entry`` per submission.

Accepted layouts (any of them may also come as a zip):

* a directory of files: ``alice.py``, ``bob.ipynb`` (student id = file name without extension);
* a directory of per-student directories or zips: ``alice/modules.py``, ``bob.zip``;
* Gradescope's "Export Submissions": ``submission_<n>/`` folders and ``submission_metadata.yml``
  giving each folder's submitters (name, email, sid).

Nothing here raises on a bad submission: an unusable one becomes an Entry with a status and a
message, so that it is a row of the gradebook. Only an unusable SUBMISSIONS argument raises.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from autograder.choose import choose

SOURCE_SUFFIXES = (".py", ".ipynb")
METADATA = "submission_metadata.yml"
# Never submissions: OS and editor droppings, and what Jupyter leaves beside a notebook.
IGNORED_NAMES = frozenset({"__MACOSX", "__pycache__", ".ipynb_checkpoints", "Thumbs.db"})
MAX_MEMBER_BYTES = 64 << 20  # one file inside a zip; submissions themselves are far smaller
MAX_ZIP_BYTES = 2 << 30  # everything extracted from one zip (zip bombs)


@dataclass(frozen=True)
class Names:
    """What a student's files are named after: the assignment's stem and its components."""

    stem: str = ""
    components: tuple[str, ...] = ()


class InputError(Exception):
    """SUBMISSIONS itself cannot be used (missing, not a directory or zip, corrupt zip)."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""


@dataclass
class Entry:
    """One submission: graded once, one gradebook row per student credited with it."""

    key: str  # unique and file-name safe: results/<key>.json, feedback/<key>.md
    source: str  # where it came from, relative to SUBMISSIONS, for people
    students: list[Student]
    path: Path | None = None  # the file to grade
    status: str | None = None  # set when there is nothing gradable: "missing", "ambiguous", ...
    message: str = ""
    notes: list[str] = field(default_factory=list)
    submitted_at: str = ""


def discover(source: str | Path, scratch: Path, expected_stem: str = "",
             exclude: Path | None = None, components: tuple[str, ...] = ()) -> list[Entry]:
    """List the submissions under ``source``; zips are extracted below ``scratch``.

    ``exclude``: a directory never taken for a student's (the output, if it is inside).
    ``expected_stem`` and ``components`` (the assignment's component names) choose among a
    student's several files (``autograder.choose``).
    """
    root, skipped = _open_root(Path(source), scratch)
    names = Names(expected_stem, components)
    dirs = _ScratchDirs(scratch)
    if (root / METADATA).is_file():
        entries = _gradescope(root, dirs, names)
    else:
        children = [c for c in _children(root) if not _same(c, exclude)]
        entries = [_entry(child, child.stem if child.is_file() else child.name, root, dirs,
                          names)
                   for child in children]
        entries = _flag_same_stem(entries, root, names)
    return _unique_keys(_flag_repeated_students(entries + _skipped_entries(skipped, root,
                                                                           entries)))


def _flag_repeated_students(entries: list[Entry]) -> list[Entry]:
    """A student credited with several submissions (a resubmission exported twice, a group
    listed again) gets a gradebook row for each: each says so, for the instructor to pick."""
    sources: dict[str, list[str]] = {}
    for entry in entries:
        for student in entry.students:
            sources.setdefault(student.id, []).append(entry.source)
    for entry in entries:
        for student in entry.students:
            others = [s for s in sources[student.id] if s != entry.source]
            if others:
                entry.notes.append(f"student {student.id} is also credited with "
                                   f"{', '.join(others)}: the gradebook has a row for each")
    return entries


def _skipped_entries(skipped: list[tuple[Path, str]], root: Path,
                     entries: list[Entry]) -> list[Entry]:
    """A row for each student whose whole submission the class zip's extraction skipped
    (too large, a link), so that nothing is lost without a trace; a skipped file of a
    student who has a row anyway becomes a note on that row."""
    by_top = {e.source.split("/")[0]: e for e in entries}
    rows: dict[str, Entry] = {}
    for member, why in skipped:
        try:
            top = member.relative_to(root).parts[0]
        except (ValueError, IndexError):  # outside the submissions folder (an unsafe path)
            top = member.name
        if top in by_top:
            by_top[top].notes.append(why)
        elif top in rows:
            rows[top].message += f"; {why}"
        else:
            student = Path(top).stem
            rows[top] = Entry(student, top, [Student(student)], status="unreadable",
                              message=why)
    return list(rows.values())


def _same(path: Path, other: Path | None) -> bool:
    return other is not None and path.resolve() == other.resolve()


# What reading a zip raises besides BadZipFile: an encrypted member (RuntimeError), an
# unsupported compression (NotImplementedError), a corrupt stream (zlib.error, EOFError).
UNUSABLE_ZIP = (zipfile.BadZipFile, OSError, ValueError, RuntimeError, NotImplementedError,
                EOFError, zlib.error)


# --- the root --------------------------------------------------------------------------------


def _open_root(source: Path, scratch: Path) -> tuple[Path, list[tuple[Path, str]]]:
    """The folder of the submissions, and what extracting it skipped (where each skipped
    member would have been, and why)."""
    if source.is_dir():
        return source, []
    if source.is_file() and zipfile.is_zipfile(source):
        target = scratch / "_root"
        try:
            skipped = _extract(source, target)
        except UNUSABLE_ZIP as exc:
            raise InputError(f"{source}: cannot extract the zip: {exc}") from exc
        return _unwrap(target), skipped
    if source.is_file():
        raise InputError(f"{source}: expected a directory or a .zip of submissions")
    raise InputError(f"{source}: no such file or directory")


def _unwrap(root: Path) -> Path:
    """A zip of a folder holds just that folder: the submissions are inside it."""
    children = _children(root)
    while len(children) == 1 and children[0].is_dir() and not (root / METADATA).is_file():
        root = children[0]
        children = _children(root)
    return root


def _children(directory: Path) -> list[Path]:
    return sorted((c for c in directory.iterdir() if not _ignored(c.name)),
                  key=lambda p: p.name)


def _ignored(name: str) -> bool:
    return _junk(name) or name == METADATA


def _junk(name: str) -> bool:
    return name.startswith(".") or name in IGNORED_NAMES


# --- one student -----------------------------------------------------------------------------


class _ScratchDirs:
    """A directory of its own for each student zip extracted: two zip names the sanitiser
    makes equal ("bob smith.zip", "bob_smith.zip") must not share one, or one student is
    graded with the other's files."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.taken = {"_root"}  # where a zip of the whole class is extracted

    def new(self, name: str) -> Path:
        return self.scratch / _unique(_safe(name), self.taken)


def _entry(path: Path, student_id: str, root: Path, dirs: _ScratchDirs, names: Names,
           students: list[Student] | None = None) -> Entry:
    entry = Entry(student_id, _relative(path, root), students or [Student(student_id)])
    if path.is_symlink():  # it may point at any file the grader can read (a solution)
        entry.status, entry.message = "unreadable", f"{entry.source}: a link, not graded"
        return entry
    if path.is_file() and path.suffix.lower() == ".zip":
        path = _extract_student_zip(path, dirs.new(entry.source), entry)
        if path is None:
            return entry
    if path.is_dir():
        _pick(path, entry, names)
    else:
        entry.path = path  # any other file: load_submission says what is wrong with it
    return entry


def _extract_student_zip(path: Path, target: Path, entry: Entry) -> Path | None:
    try:
        entry.notes.extend(why for _, why in _extract(path, target))
    except UNUSABLE_ZIP as exc:
        entry.status, entry.message = "unreadable", f"{entry.source}: not a usable zip ({exc})"
        return None
    return target


def _pick(directory: Path, entry: Entry, names: Names) -> None:
    """The one source file of a student's directory, or a status saying why there is none."""
    found = sorted(p for p in directory.rglob("*") if p.is_file() and not _linked(p, directory)
                   and p.suffix.lower() in SOURCE_SUFFIXES
                   and not any(_ignored(part) for part in p.relative_to(directory).parts))
    if not found:
        others = [p.name for p in directory.rglob("*") if p.is_file()][:5]
        entry.status = "missing"
        entry.message = "no .py or .ipynb file" + (
            f" (found: {', '.join(others)})" if others else " (empty)")
        return
    choice = choose(found, directory, names.stem, names.components)
    if choice.path is None:
        listed = ", ".join(str(p.relative_to(directory)) for p in found[:8])
        entry.status = "ambiguous"
        entry.message = (f"{len(found)} candidate files ({listed}): {choice.note}; keep exactly "
                         "one" + (f" or name it {names.stem}.py / {names.stem}.ipynb"
                                  if names.stem else ""))
        return
    entry.path = choice.path
    entry.source = f"{entry.source}/{choice.path.relative_to(directory)}"
    if choice.note:
        entry.notes.append(choice.note)


def _linked(path: Path, directory: Path) -> bool:
    """``path``, or a folder between it and ``directory``, is a symbolic link."""
    while path != directory:
        if path.is_symlink():
            return True
        path = path.parent
    return False


def _flag_same_stem(entries: list[Entry], root: Path, names: Names) -> list[Entry]:
    """``alice.py`` beside ``alice.ipynb``: one student, two candidates; graded as the
    files of one folder would be (``autograder.choose``), else neither."""
    by_key: dict[str, list[Entry]] = {}
    for entry in entries:
        by_key.setdefault(entry.key, []).append(entry)
    out = []
    for key, group in by_key.items():
        if len(group) == 1:
            out.append(group[0])
            continue
        sources = ", ".join(e.source for e in group)
        paths = [e.path for e in group if e.path is not None and e.status is None]
        choice = choose(paths, root, "", names.components) if len(paths) == len(group) \
            else None
        chosen = next((e for e in group if choice and e.path == choice.path), None)
        if chosen is None:
            why = f": {choice.note}" if choice and choice.note else ""
            out.append(Entry(key, sources, group[0].students, status="ambiguous",
                             message=f"{len(group)} candidate files ({sources}){why}; "
                                     "keep exactly one"))
            continue
        chosen.notes.append(choice.note)
        out.append(chosen)
    return out


def _unique_keys(entries: list[Entry]) -> list[Entry]:
    seen: set[str] = set()
    for entry in entries:
        entry.key = _unique(_safe(entry.key), seen)
    return entries


def _unique(base: str, seen: set[str]) -> str:
    """``base``, or ``base-2``, ``base-3``, ... if taken; recorded in ``seen``."""
    name, n = base, 1
    while name in seen:
        n += 1
        name = f"{base}-{n}"
    seen.add(name)
    return name


def _safe(name: str) -> str:
    return re.sub(r"[^\w.@+-]", "_", name).lstrip(".") or "student"


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return path.name


# --- zips ------------------------------------------------------------------------------------


def _extract(archive: Path, target: Path) -> list[tuple[Path, str]]:
    """Extract safely: no path escapes, links, oversized members; returns what was skipped:
    where each skipped member would have gone, and why."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    skipped, total = [], 0
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            parts = PurePosixPath(info.filename.replace("\\", "/")).parts
            if info.is_dir() or any(_junk(p) for p in parts):
                continue
            if _unsafe(info, parts):
                skipped.append((target.joinpath(*[p for p in parts if p not in ("/", "..")]),
                                f"skipped {info.filename!r} in {archive.name} (unsafe path"
                                + (": a link)" if _is_link(info) else ")")))
                continue
            with zf.open(info) as src:
                data = src.read(MAX_MEMBER_BYTES + 1)  # the header's size may lie
            total += len(data)
            if len(data) > MAX_MEMBER_BYTES or total > MAX_ZIP_BYTES:
                skipped.append((target.joinpath(*parts),
                                f"skipped {info.filename!r} in {archive.name} (too large: "
                                f"over {MAX_MEMBER_BYTES >> 20} MiB)"))
                continue
            dest = target.joinpath(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
    return skipped


def _is_link(info: zipfile.ZipInfo) -> bool:
    return stat.S_ISLNK(info.external_attr >> 16)


def _unsafe(info: zipfile.ZipInfo, parts: tuple[str, ...]) -> bool:
    return _is_link(info) or not parts or parts[0] in ("/", "") or ".." in parts or ":" in parts[0]


# --- Gradescope ------------------------------------------------------------------------------


def _gradescope(root: Path, dirs: _ScratchDirs, names: Names) -> list[Entry]:
    metadata = _read_metadata(root / METADATA)
    entries = []
    folders = {c.name: c for c in _children(root)}
    for folder in sorted(set(metadata) | set(folders)):
        info = metadata.get(folder) or {}
        students = _submitters(info) or [Student(Path(folder).stem)]
        if folder not in folders:
            entries.append(Entry(students[0].id, folder, students, status="missing",
                                 message="listed in submission_metadata.yml but not exported"))
            continue
        entry = _entry(folders[folder], students[0].id, root, dirs, names, students)
        entry.submitted_at = str(_get(info, "created_at") or "")
        entries.append(entry)
    return entries


def _read_metadata(path: Path) -> dict[str, Any]:
    import yaml

    class Loader(yaml.SafeLoader):
        """Gradescope writes Ruby-flavoured YAML; unknown tags become plain data."""

    def plain(loader: Loader, _suffix: str, node: yaml.Node) -> Any:
        if isinstance(node, yaml.MappingNode):
            return loader.construct_mapping(node, deep=True)
        if isinstance(node, yaml.SequenceNode):
            return loader.construct_sequence(node, deep=True)
        return loader.construct_scalar(node)

    Loader.add_multi_constructor("!", plain)
    try:
        data = yaml.load(path.read_text(encoding="utf-8", errors="replace"), Loader=Loader)
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a mapping of submission folders")
    return {str(k): v for k, v in data.items()}


def _get(info: Any, key: str) -> Any:
    """Gradescope's keys are Ruby symbols (``:name:``), read as ':name'; accept both."""
    if not isinstance(info, dict):
        return None
    return info.get(f":{key}", info.get(key))


def _submitters(info: Any) -> list[Student]:
    students = []
    for person in _get(info, "submitters") or []:
        name, email, sid = (str(_get(person, k) or "").strip() for k in ("name", "email", "sid"))
        if name or email or sid:
            students.append(Student(sid or email or name, name, email))
    return students
