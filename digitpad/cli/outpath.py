"""Where ``train`` saves: the ``--out`` path checked completely before any data or training.

Saving writes a temporary sibling ``.<name>.<8 random characters><suffix>.tmp`` and renames it
onto the target (:func:`digitpad.core.atomic.atomic_path`), so the folder must exist and be
writable and both names must fit the file system's limits. Every refusal is one sentence.
"""

from __future__ import annotations

import datetime as _dt
import errno
import os
from pathlib import Path

from digitpad.cli.terminal_text import shown
from digitpad.core.errors import ModelFileError

NAME_MAX = 255  # bytes in one file name, where the file system does not say (Linux, macOS)
PATH_MAX = 4096  # bytes in a whole path, likewise
TEMP_RANDOM_CHARS = 8  # tempfile.mkstemp's random part in atomic_path's temporary name


def default_out(arch: str) -> Path:
    """``./digitpad-<arch>-<date>-<time>.keras``."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"digitpad-{arch}-{stamp}.keras"


def temp_name(path: Path) -> str:
    """The longest name the temporary sibling of ``path`` gets while it is saved."""
    return f".{path.name}.{'x' * TEMP_RANDOM_CHARS}{path.suffix.lower()}.tmp"


def _limit(folder: Path, name: str, default: int) -> int:
    try:
        value = os.pathconf(folder, name)
    except (OSError, ValueError):
        return default
    return value if isinstance(value, int) and value > 0 else default


def _nbytes(text: str) -> int:
    return len(os.fsencode(text))


def _folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot hold the saved file, or None."""
    try:
        if folder.is_dir():
            return None
        exists = folder.exists()
    except OSError as exc:
        return _stat_problem(folder, exc)
    if exists:
        return f"{shown(folder)} is a file, not a folder"
    for ancestor in folder.parents:  # the first part of the path that exists
        try:
            if ancestor.exists():
                if not ancestor.is_dir():
                    return f"{shown(ancestor)} is a file, not a folder"
                break
        except OSError as exc:
            return _stat_problem(ancestor, exc)
    return f"the folder {shown(folder)} does not exist"


def _stat_problem(where: Path, exc: OSError) -> str:
    if exc.errno == errno.ENAMETOOLONG:
        return "a folder name in the path is longer than the file system allows"
    if exc.errno == errno.EACCES:
        return f"no permission to look into {shown(where)}"
    if exc.errno == errno.ELOOP:
        return f"{shown(where)} is a loop of symbolic links"
    if exc.errno == errno.ENOTDIR:
        return f"a part of {shown(where)} is a file, not a folder"
    return f"{shown(where)} cannot be looked at ({exc.strerror or exc})"


def _suffix_problem(path: Path) -> str | None:
    from digitpad.core.modelfile import MODEL_SUFFIXES, format_for_suffix

    if path.name.lower() in MODEL_SUFFIXES:
        return f"--out {shown(path)} needs a name before the suffix, e.g. model{path.name}."
    if format_for_suffix(path) is None:
        return f"--out {shown(path)} must end in .keras or .h5 (upper case works too)."
    return None


def _length_problem(path: Path, folder: Path) -> str | None:
    name_max = _limit(folder, "PC_NAME_MAX", NAME_MAX)
    name_bytes = _nbytes(path.name)
    if name_bytes > name_max:
        return (
            f"cannot save to {shown(path)}: the file name is {name_bytes} bytes long and the "
            f"file system allows at most {name_max}."
        )
    temp_bytes = _nbytes(temp_name(path))
    if temp_bytes > name_max:
        fits = name_bytes - (temp_bytes - name_max)
        return (
            f"cannot save to {shown(path)}: the file name is too long to save safely (the "
            f"temporary file written first needs {temp_bytes - name_bytes} more bytes); use a "
            f"name of at most {fits} bytes."
        )
    path_max = _limit(folder, "PC_PATH_MAX", PATH_MAX)
    full = _nbytes(str(folder.absolute() / temp_name(path)))
    if full >= path_max:
        return (
            f"cannot save to {shown(path)}: the path is {full} bytes long with the temporary "
            f"file's name, and the system allows less than {path_max}."
        )
    return None


def _target_problem(path: Path) -> str | None:
    try:
        if path.is_dir():
            return f"--out {shown(path)} is a folder, not a file name."
        if path.exists() and not path.is_file():
            return f"--out {shown(path)} exists and is not a regular file; digitpad replaces only files."
    except OSError as exc:
        return f"cannot save to {shown(path)}: {_stat_problem(path, exc)}."
    return None


def _writable_problem(path: Path, folder: Path) -> str | None:
    if os.access(folder, os.W_OK | os.X_OK):
        return None
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        read_only = False
    why = "is on a read-only file system" if read_only else "is not writable"
    return f"cannot save to {shown(path)}: the folder {shown(folder)} {why}."


def check_out_path(path: Path) -> Path:
    """Return ``path`` when ``train`` can save there; else raise one sentence.

    Parameters
    ----------
    path
        The ``--out`` file (``~`` already expanded).

    Returns
    -------
    Path
        ``path`` unchanged.

    Raises
    ------
    ModelFileError
        The suffix is not a model suffix (``.keras``/``.h5``/``.hdf5`` in any case), the name or
        its temporary sibling's name is longer than the file system allows, the path is a folder
        or another non-regular file, the folder is missing, a file, or not writable.
    """
    folder = path.parent if str(path.parent) else Path(".")
    problem = _suffix_problem(path)
    if problem is None:
        why = _folder_problem(folder)
        problem = f"cannot save to {shown(path)}: {why}." if why else None
    for check in (_length_problem, _writable_problem):
        if problem is None:
            problem = check(path, folder)
    if problem is None:
        problem = _target_problem(path)
    if problem is not None:
        raise ModelFileError(problem)
    return path
