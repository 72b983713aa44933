"""A build changes the store in place (``kb.store.database.update_store``): only the rows of
the record files that changed are replaced, and the store then holds what one written afresh
holds, row for row, with a downloaded copy equal byte for byte."""

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kb import pipeline
from kb.paths import changing_marker, store_is_current
from kb.records.read import checked
from kb.store import database as store
from kb.store.export import export_document
from tests.conftest import REPOSITORY
from tests.test_page_reads import edit

pytestmark = pytest.mark.cli

STUDIES = Path("evidence") / "studies"


def _edit_note(root: Path) -> None:
    from kb.records.models import Study

    edit(root / STUDIES / "krause-2012.yaml", Study, lambda study: {"note": "Edited."})


def _add_study(root: Path) -> None:
    text = (root / STUDIES / "andrulis-2007.yaml").read_text(encoding="utf-8")
    assert "id: andrulis-2007\n" in text
    new = text.replace("id: andrulis-2007\n", "id: andrulis-2007b\n")
    new = new.replace("id: andrulis-2007-", "id: andrulis-2007b-")  # its links' IDs
    (root / STUDIES / "andrulis-2007b.yaml").write_text(new, encoding="utf-8")


def _remove_study(root: Path) -> None:
    (root / STUDIES / "andrulis-2007.yaml").unlink()  # no other record names it


def _edit_recommendation_and_study(root: Path) -> None:
    from kb.records.models import Recommendation

    _edit_note(root)
    edit(
        root / "recommendations" / "hsc-recruitment-1.yaml",
        Recommendation,
        lambda rec: {"title": f"{rec.title}, revised"},
    )


def _move_a_line(root: Path) -> None:
    """The same records, written one line lower: the rows say which line each came from."""
    path = root / STUDIES / "krause-2012.yaml"
    path.write_text("# moved\n" + path.read_text(encoding="utf-8"), encoding="utf-8")


CHANGES: dict[str, tuple[Callable[[Path], None], int]] = {
    "a study edited": (_edit_note, 1),
    "a study added": (_add_study, 1),
    "a study removed": (_remove_study, 1),
    "a recommendation and a study edited": (_edit_recommendation_and_study, 2),
    "a study's lines moved": (_move_a_line, 1),
}


def _copy_of_real_records(root: Path) -> pipeline.Paths:
    for folder in ("recommendations", "evidence"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    return pipeline.Paths(root, root / "build" / "kb.sqlite", root / "build" / "index")


def _stored(paths: pipeline.Paths) -> tuple[dict[str, int], int | None]:
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    return store.update_store(knowledge_base, paths.database, warnings)


def _contents(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, sorted: what the store holds, whatever order it holds it in."""
    connection = sqlite3.connect(database)
    try:
        tables = [
            name
            for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
        ]
        return {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr)
            for table in tables
        }
    finally:
        connection.close()


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_store_changed_in_place_holds_what_one_written_afresh_holds(
    tmp_path: Path, change: str
) -> None:
    paths = _copy_of_real_records(tmp_path / "kb")
    _, replaced = _stored(paths)
    assert replaced is None  # the first build writes the store
    make_change, files = CHANGES[change]
    make_change(paths.root)

    counts, replaced = _stored(paths)

    assert replaced == files
    fresh = tmp_path / "fresh.sqlite"
    knowledge_base, warnings = checked(paths)
    assert store.build_db(knowledge_base, fresh, warnings) == counts
    assert _contents(paths.database) == _contents(fresh)
    assert export_document(paths.database) == export_document(fresh)
    store.copy_store(paths.database, tmp_path / "copy-in-place.sqlite")
    store.copy_store(fresh, tmp_path / "copy-afresh.sqlite")
    in_place = tmp_path / "copy-in-place.sqlite"
    assert in_place.read_bytes() == (tmp_path / "copy-afresh.sqlite").read_bytes()
    copied = set(_contents(in_place))
    assert copied == set(_contents(fresh)) - {"record_file", "problem"}  # the store's own


def test_a_store_with_nothing_changed_is_left_as_it_is_and_current(tmp_path: Path) -> None:
    paths = _copy_of_real_records(tmp_path / "kb")
    counts, _ = _stored(paths)
    before = paths.database.read_bytes()
    saved = (paths.root / STUDIES / "krause-2012.yaml").stat().st_mtime  # saved, unchanged:
    os.utime(paths.database, (saved - 10, saved - 10))  # the store is older than the record
    assert not store_is_current(paths)
    assert _stored(paths) == (counts, 0)
    assert paths.database.read_bytes() == before
    assert store_is_current(paths)  # so a command does not check every record again


def test_a_store_left_half_changed_is_written_afresh(tmp_path: Path) -> None:
    paths = _copy_of_real_records(tmp_path / "kb")
    _stored(paths)
    _edit_note(paths.root)
    changing_marker(paths.database).touch()  # as a change in place killed half-way leaves it
    _, replaced = _stored(paths)
    assert replaced is None
    assert not changing_marker(paths.database).exists()


def test_a_store_whose_rows_other_code_made_is_written_afresh(tmp_path: Path) -> None:
    """A file's stored digest covers the code that made its rows: other code, other digests,
    so every file counts as changed, and a store with most files changed is written afresh."""
    paths = _copy_of_real_records(tmp_path / "kb")
    _stored(paths)
    connection = sqlite3.connect(paths.database)
    with connection:
        connection.execute("UPDATE record_file SET digest = 'made by other code'")
    connection.close()
    _, replaced = _stored(paths)
    assert replaced is None
    assert {digest for _, digest in _contents(paths.database)["record_file"]} != {
        "made by other code"
    }


def test_a_few_files_changed_by_other_code_are_replaced(tmp_path: Path) -> None:
    paths = _copy_of_real_records(tmp_path / "kb")
    _stored(paths)
    connection = sqlite3.connect(paths.database)
    with connection:
        connection.execute(
            "UPDATE record_file SET digest = 'stale' WHERE path = ?",
            ((STUDIES / "krause-2012.yaml").as_posix(),),
        )
        connection.execute("UPDATE study SET title = 'stale' WHERE id = 'krause-2012'")
    connection.close()
    _, replaced = _stored(paths)
    assert replaced == 1
    knowledge_base, warnings = checked(paths)
    store.build_db(knowledge_base, tmp_path / "fresh.sqlite", warnings)
    assert _contents(paths.database) == _contents(tmp_path / "fresh.sqlite")
