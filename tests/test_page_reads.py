"""Rebuilds that render only the record pages a change can alter (``kb.render.dependencies``):
each page is kept or rendered by what it read, and the result is a full build's, byte for byte."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import build_site
from kb import pipeline
from kb.records.dump import dump_record
from kb.records.load import parse_yaml
from kb.records.models import Example, Recommendation, Record, Study
from kb.records.vocabularies import Strength
from kb.render.dependencies import (
    READS_FILE,
    NotedMapping,
    PageReads,
    PreviousReads,
    write_reads,
)
from tests.conftest import REPOSITORY

pytestmark = pytest.mark.site

LANGUAGES = ("en", "cy")


def edit(path: Path, model: type[Record], change: Callable[[Any], dict[str, Any]]) -> None:
    """Change one record file as a reviewer's tool would: read, update, write canonically."""
    data, _ = parse_yaml(path.read_text(encoding="utf-8"))
    record = model.model_validate(data)
    path.write_text(dump_record(record.model_copy(update=change(record))), encoding="utf-8")


def stronger_first_finding(study: Study) -> dict[str, Any]:
    first = study.findings[0]
    level = Strength("S1" if first.strength == Strength("S2") else "S2")
    return {"findings": [first.model_copy(update={"strength": level}), *study.findings[1:]]}


def fewer_findings(study: Study) -> dict[str, Any]:
    return {"findings": study.findings[:-1]}


# One change of each kind a reviewer makes, each to a record that other pages show.
CHANGES: dict[str, Callable[[Path], None]] = {
    "a link's level": lambda root: edit(
        root / "evidence" / "studies" / "krause-2012.yaml", Study, stronger_first_finding
    ),
    "a link removed": lambda root: edit(
        root / "evidence" / "studies" / "jongen-2018.yaml", Study, fewer_findings
    ),
    "a study's title": lambda root: edit(
        root / "evidence" / "studies" / "krause-2012.yaml",
        Study,
        lambda study: {"title": f"{study.title} (revised)"},
    ),
    "a study's label": lambda root: edit(  # its short citation, which many pages show
        root / "evidence" / "studies" / "krause-2012.yaml",
        Study,
        lambda study: {"authors": ["Krausse, A.", *study.authors[1:]]},
    ),
    "a recommendation's title": lambda root: edit(
        root / "recommendations" / "hsc-recruitment-1.yaml",
        Recommendation,
        lambda rec: {"title": f"{rec.title}, revised"},
    ),
    "an example's name": lambda root: edit(
        root / "evidence" / "examples" / "athena-swan.yaml",
        Example,
        lambda example: {"name": f"{example.name} (renamed)"},
    ),
}


def build(root: Path, staging: Path) -> pipeline.Built:
    paths = pipeline.Paths(root, root / "build" / "kb.sqlite", root / "build" / "index")
    return pipeline.build(
        paths, build_site.DOCS, staging, build_site.site_info(), languages=LANGUAGES
    )


def staged(staging: Path) -> dict[str, bytes]:
    """Every staged file of both languages, the store's copy among them, by path."""
    files = {}
    for language, folder in (("en", staging), ("cy", staging.with_name(f"{staging.name}-cy"))):
        for path in folder.rglob("*"):
            if path.is_file():
                files[f"{language}/{path.relative_to(folder)}"] = path.read_bytes()
    return files


@pytest.fixture(scope="module")
def built_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real records, built once: each test copies the result and changes one record."""
    root = tmp_path_factory.mktemp("built") / "kb"
    for folder in ("recommendations", "evidence"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    build(root, root / "build" / "docs")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("change", list(CHANGES))
def test_a_rebuild_after_one_change_is_a_full_build(
    built_once: Path, tmp_path: Path, change: str
) -> None:
    """Pages whose reads did not change are kept unrendered; all the rest are rendered; and
    the staged pages of both languages are what a build from nothing gives."""
    root = tmp_path / "kb"
    shutil.copytree(built_once, root, symlinks=True)
    CHANGES[change](root)
    built = build(root, root / "build" / "docs")
    details = {step.name: step.detail for step in built.steps}
    assert "(the rows of 1 changed file replaced)" in details["store"], details["store"]
    assert "kept from before, unrendered" in details["pages"], details["pages"]
    assert "kept from before, unrendered" in details["pages-cy"], details["pages-cy"]
    fresh = tmp_path / "fresh"
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("build"))
    build(fresh, fresh / "build" / "docs")
    assert staged(root / "build" / "docs") == staged(fresh / "build" / "docs")


def test_a_page_is_kept_only_while_everything_it_read_reads_the_same(tmp_path: Path) -> None:
    values = {"a": 1, "b": 2}
    reads = PageReads(lambda read: values[read[1]])
    noted = NotedMapping("things", values, reads)
    reads.start("one.md")
    assert noted["a"] == 1
    reads.stop("one.md")
    reads.start("every.md")
    assert sorted(noted) == ["a", "b"]  # a whole collection: always rendered, never kept
    reads.stop("every.md")
    reads.start("missing.md")
    assert "c" not in noted
    reads.stop("missing.md")
    assert set(reads.pages) == {"one.md", "missing.md"}
    write_reads(tmp_path, "inputs-1", reads)
    assert PreviousReads.read(tmp_path, "inputs-2") is None  # the code or settings changed

    def kept(page: str) -> bool:
        previous = PreviousReads.read(tmp_path, "inputs-1")
        assert previous is not None
        return previous.unchanged(page, PageReads(lambda read: values[read[1]]))

    assert kept("one.md") and kept("missing.md") and not kept("every.md")
    values["b"] = 3  # read by no kept page
    assert kept("one.md")
    values["a"] = 5
    assert not kept("one.md")
    values["c"] = 0  # a read that found nothing now finds something
    assert not kept("missing.md")
    del values["a"]
    assert not kept("one.md")


def test_reads_kept_by_another_version_are_not_trusted(tmp_path: Path) -> None:
    (tmp_path / READS_FILE).write_text('{"format": 0, "inputs": "x"}')
    assert PreviousReads.read(tmp_path, "x") is None
    (tmp_path / READS_FILE).write_text("not JSON")
    assert PreviousReads.read(tmp_path, "x") is None
