"""Replace a folder with a freshly built one, so that a kill at any moment leaves a whole one.

``replace_folder(folder, build)`` has ``build`` fill an empty sibling folder,
``.NAME.PID.tmp``, then swaps it in with two renames: the folder in use to ``.NAME.PID.old``,
the new one to ``NAME``. Then the old one is renamed to ``.NAME.PID.del`` and deleted, so an
``.old`` folder is always whole. A process killed between the two renames leaves no ``NAME``
but a whole ``.NAME.PID.old``: ``recover_folder``, which every build and every reader of the
folder calls first, renames it back, and deletes whatever else a dead process left. Folders of
a process still running are left alone. With ``discard_in_background`` the replaced folder is
renamed ``.NAME.PID.gone`` and deleted by a process of its own, which outlives this one: a
site's thousands of folders take most of a minute to remove on some file systems, and nothing
needs to wait for that. It is the folder version of
``kb.store.write_atomically``; the search index (``build/index``) and the site (``site/``) use
it.
"""

import os
import shutil
import subprocess
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import TypeVar

Built = TypeVar("Built")
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
    left beside it. Does nothing when there is nothing to do."""
    if not folder.parent.is_dir():
        return
    prefix = f".{folder.name}."
    left: list[tuple[Path, str]] = []
    for path in folder.parent.iterdir():
        if not path.name.startswith(prefix):
            continue
        pid, _, kind = path.name[len(prefix) :].partition(".")
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
