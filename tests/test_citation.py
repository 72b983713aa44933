"""CITATION.cff: valid Citation File Format 1.2.0, checked against the published schema that
check-jsonschema ships, and in step with kb-release.yaml and the package's version."""

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml

from kb.history.release import current_release
from tests.conftest import REPOSITORY

pytestmark = pytest.mark.content

CITATION = REPOSITORY / "CITATION.cff"


def schema_check(schema: str, *paths: Path) -> subprocess.CompletedProcess[str]:
    """check-jsonschema against one of the schemas it ships (no network)."""
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, *map(str, paths)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_citation_file_is_valid_cff_1_2_0() -> None:
    checked = schema_check("vendor.citation-file-format", CITATION)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert yaml.safe_load(CITATION.read_text(encoding="utf-8"))["cff-version"] == "1.2.0"


def test_the_schema_check_fails_an_invalid_citation_file(tmp_path: Path) -> None:
    citation = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    citation["license"] = "Open Government Licence"  # not an SPDX identifier
    del citation["authors"]
    broken = tmp_path / "CITATION.cff"
    broken.write_text(yaml.safe_dump(citation), encoding="utf-8")
    checked = schema_check("vendor.citation-file-format", broken)
    assert checked.returncode == 1
    assert "$.license" in checked.stdout
    assert "'authors' is a required property" in checked.stdout


def test_the_dataset_and_the_software_are_cited_at_their_versions() -> None:
    citation = yaml.safe_load(CITATION.read_text(encoding="utf-8"))
    assert citation["type"] == "dataset"
    latest = current_release(REPOSITORY)
    if latest is None:
        assert "version" not in citation and "date-released" not in citation
    else:
        assert str(citation["version"]) == latest.version
        assert str(citation["date-released"]) == latest.date.isoformat()
    software = [item for item in citation["references"] if item["type"] == "software"]
    assert [item["version"] for item in software] == [version("kb")]
    assert [item["license"] for item in software] == ["MIT"]
    report = next(item for item in citation["references"] if item["type"] == "report")
    assert report["title"] == "Improving Race Equality in Health and Social Care"
