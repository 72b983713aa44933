"""Git repositories of the tiny knowledge base, built in tmp_path, for `kb diff` and
`kb release`: a base commit, then commits that add, remove, rename and change records."""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.conftest import DATA

# Passages the new studies' links quote, added to the tiny report's text.
PASSAGES = (
    "A second trial of anonymised CVs narrowed shortlisting gaps (Okafor, 2020).\n"
    "Quotas for senior posts raised representation in one trust (Doe, 2019).\n"
)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def commit(root: Path, message: str, date: str = "2026-12-01T12:00:00") -> str:
    """Commit everything, at a fixed date so that outputs are the same on every run."""
    git(root, "add", "-A")
    environment = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    subprocess.run(
        ["git", "commit", "-q", "-m", message],
        cwd=root,
        check=True,
        env={**_environment(), **environment},
    )
    return git(root, "rev-parse", "HEAD")


def _environment() -> dict[str, str]:
    import os

    return dict(os.environ)


def link(study: str, recommendation: str, strength: str, quote: str, **fields: Any) -> dict:
    return {
        "id": f"{study}--{recommendation}",
        "recommendation": recommendation,
        "relation": fields.pop("relation", "supports"),
        "strength": strength,
        "direction": "positive",
        "horizon": "short-term",
        "summary": fields.pop("summary", f"{study} bears on {recommendation}."),
        "quote": quote,
        "source": "tiny-report",
        "location": {"section": "Recruitment"},
        "basis": "source",
        "recorded_by": "Fixture author",
        "recorded_on": "2026-11-26",
        **fields,
    }


def write_study(root: Path, study_id: str, **fields: Any) -> Path:
    path = root / "evidence" / "studies" / f"{study_id}.yaml"
    path.write_text(yaml.safe_dump({"id": study_id, **fields}, sort_keys=False), encoding="utf-8")
    return path


def read_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def write_yaml(path: Path, value: Any) -> None:
    path.write_text(yaml.safe_dump(value, sort_keys=False, allow_unicode=True), encoding="utf-8")


def base_repository(tmp_path: Path) -> Path:
    """The tiny knowledge base plus a study, doe-2019, supporting `targets` at S2, committed.

    Headlines: anonymise S1 (krause-2012 alone, at S2), targets S1 (doe-2019 alone, at S2).
    """
    root = tmp_path / "repository"
    shutil.copytree(DATA / "tiny", root)
    (root / ".gitignore").write_text("build/\nsite/\n", encoding="utf-8")
    text = root / "evidence" / "sources" / "tiny-report.txt"
    text.write_text(text.read_text(encoding="utf-8") + PASSAGES, encoding="utf-8")
    write_study(
        root,
        "doe-2019",
        authors=["Doe, J."],
        year=2019,
        title="Quotas in one trust",
        type="observational",
        findings=[
            link(
                "doe-2019",
                "targets",
                "S2",
                "Quotas for senior posts raised representation in one trust (Doe, 2019).",
            )
        ],
    )
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Fixture author")
    git(root, "config", "user.email", "fixture@example.org")
    git(root, "config", "commit.gpgsign", "false")
    commit(root, "Base: the tiny knowledge base and doe-2019")
    return root


def change_everything(root: Path) -> None:
    """Add okafor-2020 (anonymise up to S2), remove doe-2019 (targets down to S0), rename
    krause-2012 to krause-rinne-2012 with a corrected container, and retitle `targets`."""
    write_study(
        root,
        "okafor-2020",
        authors=["Okafor, C."],
        year=2020,
        title="Why anonymised CVs are not enough",
        type="quasi-experimental",
        findings=[
            link(
                "okafor-2020",
                "anonymise",
                "S3",
                "A second trial of anonymised CVs narrowed shortlisting gaps (Okafor, 2020).",
            )
        ],
    )
    (root / "evidence" / "studies" / "doe-2019.yaml").unlink()
    old = root / "evidence" / "studies" / "krause-2012.yaml"
    study = read_yaml(old)
    old.unlink()
    study["id"] = "krause-rinne-2012"
    study["container"] = "IZA Discussion Papers"
    study["findings"][0]["id"] = "krause-rinne-2012--anonymise"
    write_yaml(root / "evidence" / "studies" / "krause-rinne-2012.yaml", study)
    example = root / "evidence" / "examples" / "blind-cv-pilot.yaml"
    write_yaml(example, {**read_yaml(example), "studies": ["krause-rinne-2012"]})
    targets = root / "recommendations" / "targets.yaml"
    write_yaml(targets, {**read_yaml(targets), "title": "Publish targets for senior staff"})
