"""kb.files: a folder replaced by a new one is never lost, whenever the process dies."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb import pipeline, search
from kb.files import recover_folder, replace_folder
from kb.store.current import current_store
from tests.conftest import REPOSITORY, run_kb

pytestmark = pytest.mark.unit

# Fills the new folder, then swaps it in; os.replace calls os._exit after the chosen call, as if
# the process were killed right after that rename.
KILLED_SWAP = """
import os, sys
from pathlib import Path
from kb.files import replace_folder

folder, die_after = Path(sys.argv[1]), int(sys.argv[2])
calls, rename = [], os.replace

def replace(source, target):
    rename(source, target)
    calls.append(target)
    if len(calls) == die_after:
        os._exit(9)

os.replace = replace
replace_folder(folder, lambda new: (new / "version").write_text("new"))
"""


def contents(folder: Path) -> dict[str, str]:
    return {path.name: path.read_text() for path in folder.iterdir()}


def siblings(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.parent.iterdir() if path != folder)


def old_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "built"
    folder.mkdir()
    (folder / "version").write_text("old")
    return folder


def test_the_new_folder_replaces_the_old(tmp_path: Path) -> None:
    folder = old_folder(tmp_path)
    assert replace_folder(folder, lambda new: (new / "version").write_text("new")) == 3
    assert contents(folder) == {"version": "new"}
    assert siblings(folder) == []


def _gone_soon(path: Path) -> bool:
    for _ in range(200):
        if not path.exists():
            return True
        time.sleep(0.05)
    return False


def test_the_old_folder_can_be_deleted_in_the_background(tmp_path: Path) -> None:
    folder = old_folder(tmp_path)
    for number in range(50):
        (folder / f"page-{number}").mkdir()
    replace_folder(folder, lambda new: (new / "version").write_text("new"), True)
    assert contents(folder) == {"version": "new"}
    assert siblings(folder) in ([], [f".built.{os.getpid()}.gone"])
    assert _gone_soon(tmp_path / f".built.{os.getpid()}.gone")


def test_a_background_deletion_that_was_stopped_is_started_again(tmp_path: Path) -> None:
    folder = old_folder(tmp_path)
    dead = 2**22 + 12345  # above Linux's default pid_max: no such process
    gone = tmp_path / f".built.{dead}.gone"
    (gone / "page").mkdir(parents=True)
    recover_folder(folder)
    assert contents(folder) == {"version": "old"}
    assert _gone_soon(gone)


def test_a_failed_build_leaves_the_old_folder(tmp_path: Path) -> None:
    folder = old_folder(tmp_path)

    def fail(new: Path) -> None:
        (new / "version").write_text("half")
        raise RuntimeError("build failed")

    with pytest.raises(RuntimeError):
        replace_folder(folder, fail)
    assert contents(folder) == {"version": "old"}
    assert siblings(folder) == []


@pytest.mark.parametrize(
    ("die_after", "expected"),
    [(1, "old"), (2, "new"), (3, "new")],
    ids=["between-the-two-renames", "after-the-swap", "while-deleting-the-old-folder"],
)
def test_a_swap_killed_after_any_rename_is_recovered(
    tmp_path: Path, die_after: int, expected: str
) -> None:
    folder = old_folder(tmp_path)
    kill_a_swap(folder, die_after)
    if die_after == 1:
        assert not folder.exists()
        assert [name.rsplit(".", 1)[1] for name in siblings(folder)] == ["old", "tmp"]
    recover_folder(folder)
    assert contents(folder) == {"version": expected}
    assert siblings(folder) == []


def test_what_a_running_process_left_is_not_touched(tmp_path: Path) -> None:
    folder = tmp_path / "built"
    running = tmp_path / f".built.{os.getppid()}.old"  # the test runner's parent is alive
    running.mkdir()
    recover_folder(folder)
    assert not folder.exists()
    assert running.is_dir()


def kill_a_swap(folder: Path, die_after: int) -> None:
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SWAP, str(folder), str(die_after)],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
    )
    assert killed.returncode == 9, killed.stderr


def test_a_search_index_moved_aside_by_a_killed_build_is_put_back(tiny_kb: Path) -> None:
    paths = pipeline.Paths.for_root(tiny_kb)
    search.build_index(current_store(paths), paths.index)
    for read in (
        lambda: search.search(paths.index, "anonymised").results,
        lambda: run_kb("search", "anonymised", "--root", tiny_kb).exit_code == 0,
        lambda: search.update_index(current_store(paths), paths.index),
        lambda: search.build_index(current_store(paths), paths.index),
    ):
        kill_a_swap(paths.index, 1)
        assert not paths.index.exists()
        assert read()
        kept = ["index", "kb.sqlite", "parsed-records.marshal"]  # nothing half-written
        assert sorted(path.name for path in paths.index.parent.iterdir()) == kept
        assert [result.id for result in search.search(paths.index, "anonymised").results]
