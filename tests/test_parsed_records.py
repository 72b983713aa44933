"""The records a build parsed, kept for the next (``kb.records.parsed``): a file is parsed again
only when its bytes changed, and what is kept never changes what a check finds."""

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from kb.records.load import RecordFile, load_records
from kb.records.models import Study
from kb.records.parsed import ParsedRecords, parsed_records_file
from kb.records.read import check
from tests.conftest import REPOSITORY
from tests.test_page_reads import edit

pytestmark = pytest.mark.cli

LIMITS = {"max_file_bytes": 1 << 20, "max_field_chars": 20_000}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    for folder in ("recommendations", "evidence"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    return root


def _kept(root: Path) -> Path:
    return parsed_records_file(root / "build" / "kb.sqlite")


def _load(root: Path, **limits: int) -> tuple[list[RecordFile], list[object], ParsedRecords]:
    parsed = ParsedRecords(_kept(root), **{**LIMITS, **limits})
    records, problems = load_records(root, **{**LIMITS, **limits}, parsed=parsed)
    parsed.save()
    return records, list(problems), parsed


def test_records_read_from_what_was_kept_are_those_parsing_gives(root: Path) -> None:
    parsed_afresh, problems, first = _load(root)
    assert first.parsed == len(parsed_afresh) > 100
    read_again, problems_again, second = _load(root)
    assert second.parsed == 0
    assert read_again == parsed_afresh  # data, line of every field and digest alike
    assert problems_again == problems
    assert load_records(root, **LIMITS) == (parsed_afresh, problems)


def test_a_changed_file_is_parsed_again(root: Path) -> None:
    _load(root)
    path = root / "evidence" / "studies" / "krause-2012.yaml"
    edit(path, Study, lambda study: {"note": "Changed."})
    records, _, parsed = _load(root)
    assert parsed.parsed == 1
    changed = next(record for record in records if record.path.endswith("krause-2012.yaml"))
    assert changed.data["note"] == "Changed."


def test_a_file_refused_is_refused_again(root: Path) -> None:
    """Only what parsed without a problem is kept: a refusal is worked out on every read."""
    _load(root)
    path = root / "evidence" / "studies" / "krause-2012.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    for _ in range(2):
        records, problems, _ = _load(root)
        assert not any(record.path.endswith("krause-2012.yaml") for record in records)
        assert any("not valid YAML" in str(problem) for problem in problems)


def test_what_was_kept_under_other_limits_is_not_used(root: Path) -> None:
    """A record kept under a larger cap on a field's length is refused under a smaller one."""
    _load(root)
    _, problems, parsed = _load(root, max_field_chars=200)
    assert parsed.parsed > 0
    assert any("the limit is 200" in str(problem) for problem in problems)


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: data[: len(data) // 2],  # cut short
        lambda data: data[:-10] + b"0123456789",  # its last bytes changed
        lambda data: b"not what was written",
        lambda data: b"",
    ],
)
def test_a_damaged_file_of_kept_records_is_ignored(
    root: Path, damage: Callable[[bytes], bytes]
) -> None:
    records, problems, _ = _load(root)
    kept = _kept(root)
    kept.write_bytes(damage(kept.read_bytes()))
    read_again, problems_again, parsed = _load(root)
    assert parsed.parsed == len(records)
    assert (read_again, problems_again) == (records, problems)


def test_the_build_keeps_what_it_parsed_and_kb_check_only_reads_it(root: Path) -> None:
    from kb import pipeline

    paths = pipeline.Paths(root, root / "build" / "kb.sqlite", root / "build" / "index")
    found = check(paths)
    assert not _kept(root).exists()
    assert check(paths, keep_parsed=True) == found
    kept = _kept(root).read_bytes()
    assert check(paths) == found
    assert _kept(root).read_bytes() == kept


def test_a_build_that_fails_keeps_nothing_new(root: Path) -> None:
    """A failed build writes nothing; the next reads what the last good one kept."""
    from kb import pipeline
    from kb.errors import RecordsInvalid
    from kb.records.read import checked

    paths = pipeline.Paths(root, root / "build" / "kb.sqlite", root / "build" / "index")
    checked(paths, keep_parsed=True)
    kept = _kept(root).read_bytes()
    (root / "evidence" / "studies" / "krause-2012.yaml").write_text("id: [\n", encoding="utf-8")
    with pytest.raises(RecordsInvalid):
        checked(paths, keep_parsed=True)
    assert _kept(root).read_bytes() == kept
