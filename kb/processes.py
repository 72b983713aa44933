"""Work done by another process while this one goes on: started, waited for, or stopped.

The build runs two such pieces of work beside its own steps: the command line's search index
(``kb.pipeline.IndexInBackground``) and the site in each other language
(``kb.site.record_pages.TranslationInBackground``). Each is a function that returns one
outcome, ``("done", value)`` or ``("failed", message)``, which ``Background.outcome`` hands
back; a process that stops without one counts as failed.
"""

import ctypes
import multiprocessing
import signal
import threading
from collections.abc import Callable
from typing import Any

Outcome = tuple[str, Any]  # ("done", value) or ("failed", message)


def quickest_start_method() -> str:
    """Fork, where the system can and this process runs no other thread (``build_site.py``;
    not a preview server): the new process then has what this one loaded and worked out
    already (MkDocs and the theme, which took a spawned process about a second; the records'
    document). Spawn otherwise, as forking a process with threads can leave a lock held for
    ever."""
    forks = "fork" in multiprocessing.get_all_start_methods()
    return "fork" if forks and threading.active_count() == 1 else "spawn"


def die_with_parent() -> None:
    """Linux: have the kernel stop this process when the one that started it dies, so that a
    killed build leaves no worker to swap in its work after a newer build has."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the worker finishes on its own
        pass


def _answer(work: Callable[..., Outcome], arguments: tuple[Any, ...], results: Any) -> None:
    """In the other process: do the work and send its outcome."""
    die_with_parent()
    try:
        results.send(work(*arguments))
    finally:
        results.close()


class Background:
    """``work(*arguments)`` in another process, started now, by ``start_method`` ("spawn":
    a fresh interpreter, inheriting no connections or threads; "fork": a copy of this one,
    with its modules loaded already)."""

    def __init__(
        self,
        work: Callable[..., Outcome],
        arguments: tuple[Any, ...],
        start_method: str = "spawn",
    ) -> None:
        context: Any = multiprocessing.get_context(start_method)  # typeshed: no Process
        self._results, sending = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_answer, args=(work, arguments, sending), daemon=True
        )
        self._process.start()
        sending.close()

    def outcome(self) -> Outcome:
        """Wait for the work's outcome; ``("failed", None)`` if the process stopped without
        one."""
        try:
            outcome: Outcome = self._results.recv()
        except EOFError:
            outcome = ("failed", None)
        self._process.join()
        return outcome

    @property
    def exit_code(self) -> int | None:
        return self._process.exitcode  # type: ignore[no-any-return]

    def stop(self) -> None:
        """End the process if it is still working, and wait until it has."""
        if self._process.is_alive():
            self._process.terminate()
        self._process.join()
