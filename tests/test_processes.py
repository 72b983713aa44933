"""Work done by another process (kb.processes): its outcome comes back, and a process that
stops without one counts as failed, however it was started."""

import os
import time

import pytest

from kb.processes import Background, Outcome

pytestmark = pytest.mark.unit

START_METHODS = ["spawn", "fork"]


def _add(a: int, b: int) -> Outcome:
    return ("done", a + b)


def _refuse(reason: str) -> Outcome:
    return ("failed", reason)


def _vanish() -> Outcome:
    os._exit(3)  # as a killed or crashed process: no outcome sent


def _wait_long() -> Outcome:
    time.sleep(60)
    return ("done", None)


@pytest.mark.parametrize("start_method", START_METHODS)
def test_the_outcome_of_the_work_comes_back(start_method: str) -> None:
    assert Background(_add, (2, 3), start_method).outcome() == ("done", 5)
    assert Background(_refuse, ("no",), start_method).outcome() == ("failed", "no")


@pytest.mark.parametrize("start_method", START_METHODS)
def test_a_process_that_stops_without_an_outcome_has_failed(start_method: str) -> None:
    worker = Background(_vanish, (), start_method)
    assert worker.outcome() == ("failed", None)
    assert worker.exit_code == 3


def test_stop_ends_the_work_at_once() -> None:
    worker = Background(_wait_long, (), "fork")
    started = time.perf_counter()
    worker.stop()
    assert time.perf_counter() - started < 30  # not the minute the work would take
    assert worker.exit_code is not None and worker.exit_code < 0  # ended by a signal
    worker.stop()  # again: nothing left to stop
