"""Commands killed at random points leave the previous database, index and site usable.

Each test runs the real command in a subprocess and sends SIGKILL after a delay drawn from
``random.Random(42)``, or just after the command starts writing its output, a few times over.
Afterwards the database passes SQLite's integrity check and answers queries, stale temporary
files are never taken for the database, the site and the search index still work, and no record
file is truncated. Two writers running at once do not lose each other's records.
"""

import hashlib
import os
import random
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import DATA, REPOSITORY, run_kb

TINY = DATA / "tiny"
BIN = REPOSITORY / ".venv" / "bin"
KILLS = 4
# Names a killed writer may leave beside its output: hidden, and never read as the output.
STALE = (".kb.sqlite.", ".index.", ".site.")

pytestmark = [pytest.mark.hostile, pytest.mark.slow]


def bigger_kb(root: Path, studies: int) -> Path:
    """The tiny knowledge base with ``studies`` more studies, so writing takes a while."""
    shutil.copytree(TINY, root)
    study = (TINY / "evidence/studies/krause-2012.yaml").read_text()
    for number in range(studies):
        text = study.replace("krause-2012", f"krause-2012-{number}").replace(
            "https://doi.org/10.1234/IZA.44", f"10.1234/iza.{number}x"
        )
        (root / f"evidence/studies/krause-2012-{number}.yaml").write_text(text)
    return root


def record_digests(root: Path) -> dict[str, str]:
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for folder in ("recommendations", "evidence")
        for path in sorted((root / folder).rglob("*"))
        if path.is_file()
    }


def database_rows(path: Path) -> dict[str, int]:
    """Row counts of every table, after SQLite's own integrity and foreign-key checks."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in tables
        }
    finally:
        connection.close()


def start(*command: str | Path, cwd: Path | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(part) for part in command],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_after(
    process: subprocess.Popen[bytes], delay: float, started: Callable[[], bool] = lambda: True
) -> bool:
    """Wait until ``started()`` (or the process ends), then ``delay`` seconds, then SIGKILL.

    Returns True when the process was killed, False when it had already finished.
    """
    deadline = time.monotonic() + 60
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    end = time.monotonic() + delay
    while process.poll() is None and time.monotonic() < end:
        time.sleep(0.002)
    if process.poll() is not None:
        stderr = process.stderr.read().decode() if process.stderr else ""
        assert process.returncode == 0, stderr
        return False
    process.kill()
    process.wait(timeout=60)
    return True


def timed(command: list[str | Path]) -> float:
    started = time.monotonic()
    completed = subprocess.run([str(part) for part in command], capture_output=True, timeout=120)
    assert completed.returncode == 0, completed.stderr.decode()
    return time.monotonic() - started


def temporary_appears(folder: Path, prefix: str) -> Callable[[], bool]:
    """True once a folder being built (``kb.files``'s ``.NAME.PID.tmp``) appears."""
    return lambda: (
        folder.is_dir()
        and any(
            path.name.startswith(prefix) and path.name.endswith(".tmp") for path in folder.iterdir()
        )
    )


def test_killed_build_db_leaves_a_usable_database(tmp_path: Path) -> None:
    root = bigger_kb(tmp_path / "kb", studies=1500)
    database = root / "build" / "kb.sqlite"
    command = [BIN / "kb", "build-db", "--root", root]
    duration = timed(command)
    expected = database_rows(database)
    records = record_digests(root)
    chance = random.Random(42)

    kills = 0
    for attempt in range(KILLS):
        process = start(*command)
        if attempt % 2:  # just after the temporary database appears: mid-write
            killed = kill_after(
                process,
                chance.uniform(0, 0.1),
                temporary_appears(database.parent, ".kb.sqlite."),
            )
        else:  # anywhere in the run
            killed = kill_after(process, chance.uniform(0, duration))
        kills += killed
        assert database_rows(database) == expected
        kept = {"kb.sqlite", "parsed-records.marshal"}  # the store, and the records it parsed
        leftovers = {path.name for path in database.parent.iterdir()} - kept
        temporary = (".kb.sqlite.", ".parsed-records.marshal.")
        assert all(name.startswith(temporary) for name in leftovers), leftovers
        assert record_digests(root) == records
    assert kills >= KILLS // 2
    assert any(name.startswith(".kb.sqlite.") and name.endswith(".tmp") for name in leftovers), (
        "no kill came mid-write"
    )

    # Stale temporary files are never mistaken for the store: reading and rebuilding both work.
    assert run_kb("stats", "--json", "--root", root).exit_code == 0
    assert run_kb("build-db", "--root", root).exit_code == 0
    assert database_rows(database) == expected


def site_pages(site: Path) -> dict[str, int]:
    return {path.relative_to(site).as_posix(): path.stat().st_size for path in site.rglob("*.html")}


def test_killed_site_build_leaves_the_previous_site_index_and_database(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(TINY, root)
    site = tmp_path / "site"
    command = [BIN / "python", REPOSITORY / "build_site.py", "--root", root, "--site", site]
    duration = timed(command)
    pages = site_pages(site)
    rows = database_rows(root / "build" / "kb.sqlite")
    records = record_digests(root)
    assert "index.html" in pages
    chance = random.Random(42)

    for attempt in range(3):
        process = start(*command)
        if attempt == 2:  # while MkDocs writes the new site
            kill_after(process, chance.uniform(0, 0.3), temporary_appears(tmp_path, ".site."))
        else:
            kill_after(process, chance.uniform(0, duration))
        assert (site / "index.html").is_file(), "the previous site is gone"
        assert site_pages(site).keys() == pages.keys()
        assert database_rows(root / "build" / "kb.sqlite") == rows
        assert record_digests(root) == records
        found = run_kb("search", "anonymised", "--json", "--root", root)
        assert found.exit_code == 0, found.output
        assert "anonymise" in found.output

    assert subprocess.run([str(part) for part in command], capture_output=True).returncode == 0
    assert site_pages(site).keys() == pages.keys()
    leftovers = {path.name for path in tmp_path.iterdir()} - {"kb", "site"}
    assert all(name.startswith(STALE) for name in leftovers), leftovers


def ris(entries: range, tag: str) -> str:
    return "".join(
        f"TY  - JOUR\nTI  - Study {tag} number {number} of a long series\nAU  - Author{tag}, "
        f"A.\nAU  - Other, B.\nPY  - 2015\nDO  - 10.5555/{tag}.{number}\nER  - \n\n"
        for number in entries
    )


def study_files(root: Path) -> list[Path]:
    return sorted((root / "evidence" / "studies").glob("*.yaml"))


def test_killed_import_leaves_only_whole_records(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(TINY, root)
    references = tmp_path / "references.ris"
    references.write_text(ris(range(400), "k"))
    chance = random.Random(42)
    originals = {path.name: path.read_bytes() for path in study_files(root)}

    for attempt in range(3):
        process = start(BIN / "kb", "import", references, "--root", root)
        if attempt == 2:  # just after the first new record is written
            kill_after(
                process,
                chance.uniform(0, 0.2),
                lambda: len(study_files(root)) > len(originals),
            )
        else:
            kill_after(process, chance.uniform(0.3, 3.0))
        for path in study_files(root):
            assert path.read_bytes().endswith(b"\n"), f"{path.name} is truncated"
        for name, content in originals.items():
            assert (root / "evidence" / "studies" / name).read_bytes() == content
        result = run_kb("check", "--root", root)
        assert result.exit_code == 0, result.output


def test_concurrent_writers_keep_each_others_records(tmp_path: Path) -> None:
    root = tmp_path / "kb"
    shutil.copytree(TINY, root)
    files = []
    for tag in ("a", "b"):
        path = tmp_path / f"{tag}.ris"
        path.write_text(ris(range(20), tag))
        files.append(path)
    importers = [
        start(BIN / "kb", "import", path, "--allow-duplicate", "--root", root) for path in files
    ]
    adders = [
        start(
            BIN / "kb",
            "add",
            "study",
            "--no-input",
            "--id",
            f"added-{number}",
            "--title",
            f"Added study {number}",
            "--type",
            "review",
            "--allow-duplicate",
            "--root",
            root,
        )
        for number in range(2)
    ]
    for process in importers + adders:
        _out, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr.decode()

    names = {path.stem for path in study_files(root)}
    assert {f"added-{number}" for number in range(2)} <= names
    assert len(names) == 1 + 20 + 20 + 2
    assert run_kb("check", "--root", root).exit_code == 0
    assert not [name for name in os.listdir(root / "evidence" / "studies") if ".tmp" in name]
