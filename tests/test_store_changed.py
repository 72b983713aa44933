"""A build that finds a few studies changed checks each against the store and replaces its rows
(``kb.store.changed``), and ends where a check of every record and a store written afresh end:
the same warnings, the same rows. Any other change is left to the full check, untouched."""

import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from kb import pipeline
from kb.records.models import Recommendation, Study
from kb.records.read import checked
from kb.records.vocabularies import Strength
from kb.store import database as store
from kb.store.changed import check_changes, most_checked_against_the_store
from kb.store.current import current_store
from tests.conftest import REPOSITORY
from tests.test_page_reads import edit

pytestmark = pytest.mark.cli

STUDIES = Path("evidence") / "studies"
JUDGED = Path("recommendations") / "hsc-data-4.yaml"  # its one link is butt-2006's fourth


def _link(study: str, index: int, **changes: Any) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        def update(record: Study) -> dict[str, Any]:
            findings = list(record.findings)
            findings[index] = findings[index].model_copy(update=changes)
            return {"findings": findings}

        edit(root / STUDIES / f"{study}.yaml", Study, update)

    return change


def _judged_s4(root: Path) -> None:
    """hsc-data-4 judged S4, though its one link is S1: a warning, on the recommendation."""
    edit(
        root / JUDGED,
        Recommendation,
        lambda rec: {
            "evidence_judgement": rec.evidence_judgement.model_copy(
                update={"level": Strength("S4")}
            )
        },
    )


def _judged_s4_on_an_s2_link(root: Path) -> None:
    _judged_s4(root)
    _link("butt-2006", 3, strength=Strength("S2"))(root)


def _note(text: str) -> Callable[[Path], None]:
    return lambda root: edit(root / STUDIES / "krause-2012.yaml", Study, lambda _: {"note": text})


def _both(*changes: Callable[[Path], None]) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        for each in changes:
            each(root)

    return change


def _nothing(root: Path) -> None:
    pass


# (set-up before the first build, the change after it, the files checked against the store)
CHECKED_AGAINST_THE_STORE: dict[str, tuple[Callable[[Path], None], Callable[[Path], None], int]] = {
    "a link's level": (_nothing, _link("krause-2012", 0, strength=Strength("S1")), 1),
    "a study's note": (_nothing, _note("Reread on 5 December 2026."), 1),
    "a note that gives another design as the reason": (
        _nothing,
        _link("krause-2012", 0, note="A blog post, hence S1."),
        1,
    ),
    "a link lowered under a judgement it no longer bears out": (
        _judged_s4_on_an_s2_link,
        _link("butt-2006", 3, strength=Strength("S1")),
        1,
    ),
    "a link raised to bear out a judgement": (
        _judged_s4,
        _link("butt-2006", 3, strength=Strength("S2")),
        1,
    ),
    "two studies": (
        _nothing,
        _both(_note("Reread."), _link("butt-2006", 0, note="Checked again.")),
        2,
    ),
    "nothing": (_nothing, _nothing, 0),
}


def _copy_of_real_records(root: Path) -> pipeline.Paths:
    for folder in ("recommendations", "evidence"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    return pipeline.Paths(root, root / "build" / "kb.sqlite", root / "build" / "index")


def _built(root: Path, set_up: Callable[[Path], None]) -> pipeline.Paths:
    """The real records, set up and checked in full, with the store written afresh."""
    paths = _copy_of_real_records(root)
    set_up(root)
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    store.build_db(knowledge_base, paths.database, warnings)
    return paths


def _rows(database: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the warnings', sorted; the warnings without their number."""
    connection = sqlite3.connect(database)
    try:
        tables = [
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        ]
        rows = {
            table: sorted(connection.execute(f'SELECT * FROM "{table}"'), key=repr)
            for table in tables
            if table != "problem"
        }
        rows["problem"] = sorted(
            connection.execute(
                "SELECT path, line, record_id, field, message, severity FROM problem"
            ),
            key=repr,
        )
        return rows
    finally:
        connection.close()


@pytest.mark.parametrize("case", list(CHECKED_AGAINST_THE_STORE))
def test_studies_checked_against_the_store_end_as_a_full_check_ends(
    tmp_path: Path, case: str
) -> None:
    set_up, change, files = CHECKED_AGAINST_THE_STORE[case]
    paths = _built(tmp_path / "kb", set_up)
    change(paths.root)

    changes = check_changes(paths)

    assert changes is not None
    assert changes.replaced == files
    fresh = tmp_path / "fresh.sqlite"
    knowledge_base, warnings = checked(paths)
    store.build_db(knowledge_base, fresh, warnings)
    assert changes.warnings == warnings
    assert _rows(paths.database) == _rows(fresh)
    assert changes.records == sum(
        len(knowledge_base.by_kind(kind))
        for kind in ("source", "theme", "recommendation", "study", "example", "figure")
    )
    assert changes.links == sum(1 for _ in knowledge_base.findings())
    assert pipeline.store_is_current(paths)


def test_the_cases_change_the_warnings_they_are_about(tmp_path: Path) -> None:
    """The judgement cases add and remove the warning they are named for, so the test above
    compares a store whose warnings changed."""
    for case, has_warning in (
        ("a link lowered under a judgement it no longer bears out", True),
        ("a link raised to bear out a judgement", False),
    ):
        set_up, change, _ = CHECKED_AGAINST_THE_STORE[case]
        paths = _built(tmp_path / case, set_up)
        change(paths.root)
        changes = check_changes(paths)
        assert changes is not None
        judged = [w for w in changes.warnings if w.field == "evidence_judgement.level"]
        assert bool(judged) == has_warning, case
    paths = _built(tmp_path / "note", _nothing)
    _link("krause-2012", 0, note="A blog post, hence S1.")(paths.root)
    changes = check_changes(paths)
    assert changes is not None
    assert any("gives the reason as" in warning.message for warning in changes.warnings)


def _quote_not_in_the_source(root: Path) -> None:
    _link("krause-2012", 0, quote="Words the report never wrote.")(root)


def _link_renamed(root: Path) -> None:
    path = root / STUDIES / "krause-2012.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("id: krause-2012--", "id: krause-2012-x--", 1), encoding="utf-8")


def _study_added(root: Path) -> None:
    text = (root / STUDIES / "andrulis-2007.yaml").read_text(encoding="utf-8")
    new = text.replace("andrulis-2007", "andrulis-2007b")
    (root / STUDIES / "andrulis-2007b.yaml").write_text(new, encoding="utf-8")


def _study_removed(root: Path) -> None:
    (root / STUDIES / "andrulis-2007.yaml").unlink()


def _recommendation_edited(root: Path) -> None:
    edit(root / JUDGED, Recommendation, lambda rec: {"title": f"{rec.title}, revised"})


def _source_text_saved(root: Path) -> None:
    text = next((root / "evidence" / "sources").glob("*.txt"))
    later = (root / "build" / "kb.sqlite").stat().st_mtime + 5
    os.utime(text, (later, later))


def _study_linked(root: Path) -> None:
    path = root / STUDIES / "krause-2012.yaml"
    moved = root / "krause-2012.yaml"
    path.rename(moved)
    path.symlink_to(moved)


LEFT_TO_THE_FULL_CHECK: dict[str, Callable[[Path], None]] = {
    "a quote not in its source (an error)": _quote_not_in_the_source,
    "a link's ID": _link_renamed,
    "a study added": _study_added,
    "a study removed": _study_removed,
    "a recommendation": _recommendation_edited,
    "a source's text saved": _source_text_saved,
    "a study that is a link": _study_linked,
}


@pytest.mark.parametrize("case", list(LEFT_TO_THE_FULL_CHECK))
def test_other_changes_are_left_to_the_full_check(tmp_path: Path, case: str) -> None:
    paths = _built(tmp_path / "kb", _nothing)
    before = paths.database.read_bytes()
    LEFT_TO_THE_FULL_CHECK[case](paths.root)
    assert check_changes(paths) is None
    assert paths.database.read_bytes() == before


def test_a_store_without_warnings_kept_is_left_to_the_full_check(tmp_path: Path) -> None:
    """A store written by `kb add` in place, or without the check's warnings, keeps no digest
    for those files: they are checked in full."""
    paths = _copy_of_real_records(tmp_path / "kb")
    knowledge_base, _ = checked(paths)
    store.build_db(knowledge_base, paths.database)  # no warnings given: no digests kept
    assert check_changes(paths) is None


def test_a_command_reading_the_store_checks_a_changed_study_against_it(tmp_path: Path) -> None:
    paths = _built(tmp_path / "kb", _nothing)
    _note("Reread.")(paths.root)
    assert not pipeline.store_is_current(paths)
    engine = current_store(paths)
    engine.dispose()
    assert pipeline.store_is_current(paths)
    connection = sqlite3.connect(paths.database)
    (note,) = connection.execute("SELECT note FROM study WHERE id = 'krause-2012'").fetchone()
    connection.close()
    assert note == "Reread."


def test_a_study_changed_in_place_by_kb_add_is_checked_again(tmp_path: Path) -> None:
    """`kb add` stores a study's rows without its warnings (``store.UNCHECKED``): the next
    build checks that study against the store, and ends as a full check would."""
    paths = _built(tmp_path / "kb", _nothing)
    _link("krause-2012", 0, note="A blog post, hence S1.")(paths.root)
    knowledge_base, _ = checked(paths)
    engine = store.connect(paths.database)
    with store.updating(engine) as connection:
        written = store.records_of(knowledge_base, ["evidence/studies/krause-2012.yaml"])
        store.replace_rows(connection, ["evidence/studies/krause-2012.yaml"], written)
    engine.dispose()
    changes = check_changes(paths)
    assert changes is not None and changes.replaced == 1
    _, warnings = checked(paths)
    assert changes.warnings == warnings
    assert any("gives the reason as" in warning.message for warning in warnings)


def test_many_changed_studies_are_left_to_the_full_check(tmp_path: Path) -> None:
    """Checking every record is quicker than checking many studies one by one."""
    paths = _built(tmp_path / "kb", _nothing)
    studies = sorted((paths.root / STUDIES).glob("*.yaml"))
    allowed = most_checked_against_the_store(len(store.stored_digests(paths.database) or {}))
    for path in studies[: allowed + 1]:
        path.write_text(path.read_text(encoding="utf-8") + "# read again\n", encoding="utf-8")
    assert check_changes(paths) is None
    studies[allowed].write_text(
        studies[allowed].read_text(encoding="utf-8")[: -len("# read again\n")], encoding="utf-8"
    )
    changes = check_changes(paths)
    assert changes is not None and changes.replaced == allowed


def test_a_change_in_place_that_fails_is_left_to_the_full_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while the store is changed rolls it back and marks it half-changed, so the
    full check that follows writes it afresh."""
    from kb.store import changed

    paths = _built(tmp_path / "kb", _nothing)
    before = _rows(paths.database)
    _note("Reread.")(paths.root)

    def unreadable(*args: object) -> None:
        raise OSError("Input/output error")

    monkeypatch.setattr(changed, "_judge_judgements", unreadable)
    assert check_changes(paths) is None
    assert _rows(paths.database) == before
    knowledge_base, warnings = checked(paths, keep_parsed=True)
    assert store.update_store(knowledge_base, paths.database, warnings)[1] is None  # afresh
