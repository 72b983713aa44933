"""What every page's footer says about the knowledge base itself: its content release, the day
its records last changed, and where to report a problem with a page.

The release comes from ``kb-release.yaml`` (``kb.history.release``); the day from git, as the date
of the last commit that changed a record. Outside git, or in a shallow clone whose history may not
reach that commit, the day is not known and the footer says so rather than guess. The repository is
MkDocs' own ``repo_url``: on GitHub or GitLab a page's "Report a problem" link opens a new issue
there, its title and text prefilled with the page and its record ID.
"""

import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from kb.history.release import RELEASE_FILE, current_release

RECORD_FOLDERS = ("recommendations", "evidence")


@dataclass(frozen=True)
class ProblemReports:
    """Where a new issue is opened, and the names of its title and text parameters."""

    url: str
    title: str
    body: str


@dataclass(frozen=True)
class SiteFacts:
    """The footer's facts, as the templates read them (``kb_facts``)."""

    release: str | None  # "1.2.0 of 4 December 2026"; None before the first release
    updated: date | None  # the last commit that changed a record; None when not known
    repository: str | None
    problems: ProblemReports | None
    contact: str | None = None  # a line naming who keeps the site and how to reach them

    @property
    def updated_text(self) -> str | None:
        return f"{self.updated.day} {self.updated:%B %Y}" if self.updated else None

    def fingerprint(self) -> str:
        """Everything here that a page shows: a change re-renders every page."""
        return repr(self)


def site_facts(root: Path, repository: str | None, contact: str | None = None) -> SiteFacts:
    """The footer's facts for the knowledge base in ``root`` (one without a release file has
    had no release; a release file that cannot be read is an error)."""
    release = current_release(root) if (root / RELEASE_FILE).is_file() else None
    return SiteFacts(
        release.label() if release else None,
        records_last_changed(root),
        repository,
        problem_reports(repository),
        contact,
    )


def records_last_changed(root: Path) -> date | None:
    """The day of the last commit that changed a record file, or None when git cannot say:
    not a git repository, no commit yet, or a shallow clone."""

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(root), *args],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    if git("rev-parse", "--is-shallow-repository") != "false":
        return None
    day = git("log", "-1", "--format=%cs", "--", *RECORD_FOLDERS)
    try:
        return date.fromisoformat(day) if day else None
    except ValueError:
        return None


def problem_reports(repository: str | None) -> ProblemReports | None:
    """The new-issue form of a GitHub or GitLab repository; None for any other address."""
    if not repository:
        return None
    parts = urlsplit(repository)
    base = repository.rstrip("/")
    if parts.scheme != "https" or parts.path.strip("/").count("/") < 1:
        return None
    if parts.hostname == "github.com":
        return ProblemReports(f"{base}/issues/new", "title", "body")
    if parts.hostname == "gitlab.com" or (parts.hostname or "").startswith("gitlab."):
        return ProblemReports(f"{base}/-/issues/new", "issue[title]", "issue[description]")
    return None
