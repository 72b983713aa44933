"""Writing files safely, and JSON text for them: the file-system helpers every step shares.

- ``write_atomically(path, write)`` has ``write`` fill a temporary file beside ``path``, then
  moves it over ``path`` in one step, so a reader sees the old file or the new one, never half.
- ``replace_folder(folder, build)`` does the same for a folder: ``build`` fills an empty sibling
  folder, ``.NAME.PID.tmp``, then two renames swap it in: the folder in use to
  ``.NAME.PID.old``, the new one to ``NAME``. Then the old one is renamed to ``.NAME.PID.del``
  and deleted, so an ``.old`` folder is always whole. A process killed between the two renames
  leaves no ``NAME`` but a whole ``.NAME.PID.old``: ``recover_folder``, which every build and
  every reader of the folder calls first, renames it back, and deletes whatever else a dead
  process left. Folders of a process still running are left alone. With
  ``discard_in_background`` the replaced folder is renamed ``.NAME.PID.gone`` and deleted by a
  process of its own, which outlives this one: a site's thousands of folders take most of a
  minute to remove on some file systems, and nothing needs to wait for that. The search index
  (``build/index``) and the site (``site/``) use it.
- ``repository_lock(root)`` holds a knowledge base's write lock (``.kb.lock``): every command
  that changes records holds it, so there is one writer at a time.
- ``indented_json(value)`` is ``json.dumps(value, indent=2, ensure_ascii=False)``, quicker.
- ``files_digest(folder, pattern)`` is a digest of the names and bytes of a folder's files.
"""

import fcntl
import hashlib
import math
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, TypeVar

Built = TypeVar("Built")
LOCK_NAME = ".kb.lock"
_KINDS = ("tmp", "old", "del")
_GONE = "gone"  # being deleted in the background (``delete_in_background``)


def _alive(pid: int) -> bool:
    """True when a process ``pid`` (other than this one) is running."""
    if pid == os.getpid():  # this process left it in an earlier life, or in a failed swap
        return False
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True


def _sibling(folder: Path, kind: str) -> Path:
    return folder.with_name(f".{folder.name}.{os.getpid()}.{kind}")


def recover_folder(folder: Path) -> None:
    """Put back ``folder`` if a killed swap left it moved aside, and delete what dead swaps
    left beside it, with what was being built beside their new folder (``.site.PID.tmp.cy``,
    ``kb.site.record_pages.TranslationInBackground``). Does nothing when there is nothing to
    do."""
    if not folder.parent.is_dir():
        return
    prefix = f".{folder.name}."
    left: list[tuple[Path, str]] = []
    for path in folder.parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        pid, _, kind = path.name[len(prefix) :].partition(".")
        kind = kind.partition(".")[0]  # tmp.cy: built beside a new folder, which it joins
        if pid.isdigit() and kind == _GONE and not _alive(int(pid)):
            delete_in_background(path)  # again, in case that deletion was stopped
        elif pid.isdigit() and kind in _KINDS and not _alive(int(pid)):
            left.append((path, kind))
    if not left:
        return
    moved_aside = sorted(
        (path for path, kind in left if kind == "old"),
        key=lambda path: path.lstat().st_ctime,  # renaming sets it: the latest swap's first
        reverse=True,
    )
    if moved_aside and not folder.exists():
        with suppress(OSError):  # another reader put it back first
            os.replace(moved_aside[0], folder)
    for path, _ in left:
        if path.exists():
            shutil.rmtree(path, ignore_errors=True)


def delete_in_background(folder: Path) -> None:
    """Delete ``folder`` in a new process that carries on after this one ends."""
    try:
        subprocess.Popen(
            ["rm", "-rf", "--", str(folder)],
            start_new_session=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:  # no rm here: delete it now
        shutil.rmtree(folder, ignore_errors=True)


def replace_folder(
    folder: Path, build: Callable[[Path], Built], discard_in_background: bool = False
) -> Built:
    """Call ``build(empty_folder)``, then swap the folder it filled in for ``folder``.

    Returns what ``build`` returns. If ``build`` fails, ``folder`` is as it was and the new
    folder is deleted. If the process is killed, ``folder`` or its previous version is there
    (the latter put back by the next ``recover_folder``).
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    recover_folder(folder)
    temporary, previous, discarded = (_sibling(folder, kind) for kind in _KINDS)
    try:
        temporary.mkdir()
        built = build(temporary)
        if folder.exists():
            os.replace(folder, previous)
        try:
            os.replace(temporary, folder)
        except OSError:
            if previous.exists() and not folder.exists():
                os.replace(previous, folder)
            raise
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
        if previous.exists() and folder.exists() and discard_in_background:
            os.replace(previous, _sibling(folder, _GONE))  # a name that is never put back
            delete_in_background(_sibling(folder, _GONE))
        elif previous.exists() and folder.exists():
            os.replace(previous, discarded)  # the name that is never put back
            shutil.rmtree(discarded, ignore_errors=True)
    return built


def files_digest(folder: Path, pattern: str = "*") -> bytes:
    """A digest of the name and bytes of every file below ``folder`` whose name matches
    ``pattern`` (compiled Python in ``__pycache__`` left out): equal for equal files."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(folder.rglob(pattern)):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
            digest.update(hashlib.blake2b(path.read_bytes(), digest_size=16).digest())
    return digest.digest()


def write_atomically(path: Path, write: Any) -> None:
    """Call ``write(temporary_path)``, then move the result over ``path`` in one step.

    If ``write`` fails or the process dies, ``path`` is untouched and the temporary file is
    removed (or, after a kill, left with a name no reader opens).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        with open(temporary, "rb+") as written:
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        with suppress(FileNotFoundError):
            temporary.unlink()


def write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temporary file, fsync, rename)."""
    write_atomically(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


@contextmanager
def repository_lock(root: Path) -> Iterator[None]:
    """Hold the knowledge base's write lock; other writers wait until it is released."""
    with open(root / LOCK_NAME, "a") as lock_file:
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file.fileno(), fcntl.LOCK_UN)


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (math.inf, -math.inf):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


# Exact type → its JSON text, for the values that make up nearly every document.
_SCALARS: dict[type, Callable[[Any], str]] = {
    str: encode_basestring,  # json's own escaping, in C
    int: int.__repr__,
    float: _float_text,
    bool: lambda value: "true" if value else "false",
    type(None): lambda value: "null",
}


def _key_text(key: Any) -> str:
    """A mapping key as ``json`` writes it: always a string."""
    if isinstance(key, str):
        return encode_basestring(key)
    if isinstance(key, float):
        return encode_basestring(_float_text(key))
    if isinstance(key, bool) or key is None:
        return f'"{_SCALARS[type(key)](key)}"'
    if isinstance(key, int):
        return encode_basestring(int.__repr__(key))
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _json_text(value: Any, newline: str) -> str:
    """``value`` as indented JSON, its lines after the first starting with ``newline``."""
    scalar = _SCALARS.get(type(value))
    if scalar is not None:
        return scalar(value)
    for kind in (str, int, float):  # subclasses (enumerations), tested in json's order
        if isinstance(value, kind):
            return _SCALARS[kind](value)
    inner = newline + "  "
    get = _SCALARS.get
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [
            text(item) if (text := get(type(item))) else _json_text(item, inner) for item in value
        ]
        return f"[{inner}{f',{inner}'.join(items)}{newline}]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [
            f"{encode_basestring(key) if type(key) is str else _key_text(key)}: "
            f"{text(item) if (text := get(type(item))) else _json_text(item, inner)}"
            for key, item in value.items()
        ]
        return f"{{{inner}{f',{inner}'.join(items)}{newline}}}"
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def indented_json(value: Any) -> str:
    """``json.dumps(value, indent=2, ensure_ascii=False)``, quicker.

    With ``indent``, ``json`` encodes in pure Python, a generator step per value; this
    encodes each container's items in one comprehension, strings with ``json``'s C escaping.
    """
    return _json_text(value, "\n")
