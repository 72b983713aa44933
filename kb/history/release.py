"""The knowledge base's content releases: which there have been, and what the next one is.

``kb-release.yaml``, at the root of the knowledge base, is the one place that lists them,
newest first, each with its version and the day it was released::

    releases:
      - version: 1.1.0
        date: 2027-01-15
      - version: 1.0.0
        date: 2026-12-04

The git tag ``v`` + version marks the commit each was made from. Versions are semantic, for
the content rather than the software (``BUMP_RULE``): a changed record format is a major
release, a record added, removed or renamed (a new study or evidence link) a minor one, a
corrected field (a rating, a quote, a typo) a patch. ``current_release`` is what the site
and the downloads print; ``suggest_next`` compares the last release's tag with the working
tree by ``kb.history.diff`` and applies the rule.
"""

import datetime
import gettext
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from kb.errors import ReleaseFileInvalid, RevisionInvalid, RevisionNotFound
from kb.history.diff import KINDS, Diff, compare
from kb.history.revisions import git, resolve, revision, working_tree
from kb.localization import ENGLISH, day_in
from kb.paths import Paths

RELEASE_FILE = "kb-release.yaml"
TAG_PREFIX = "v"
FIRST_VERSION = "1.0.0"
# The record format reference, generated from the models (kb.records.reference): the record format
# changed when its fields, their types, whether they are required, or a vocabulary's values
# changed (descriptions may be reworded).
FORMAT_REFERENCE = "docs/reference-records.md"
PARTS = ("major", "minor", "patch")
BUMP_RULE = {
    "major": "the record format changed (fields, types, required fields or vocabularies)",
    "minor": "a record was added, removed or renamed: a new study or evidence link, say",
    "patch": "a field of a record was corrected: a rating, a quote, a typo",
}
_VERSION = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


@dataclass(frozen=True)
class Release:
    """One content release."""

    version: str
    date: datetime.date

    @property
    def tag(self) -> str:
        return f"{TAG_PREFIX}{self.version}"

    @property
    def numbers(self) -> tuple[int, int, int]:
        major, minor, patch = (int(part) for part in self.version.split("."))
        return major, minor, patch

    def label(self, words: gettext.NullTranslations | None = None, language: str = ENGLISH) -> str:
        """How pages print it: `1.2.0 of 4 December 2026` (``words``: in another language)."""
        said = (words or gettext.NullTranslations()).gettext("%(version)s of %(day)s")
        return said % {"version": self.version, "day": day_in(self.date, language)}

    def as_dict(self) -> dict[str, Any]:
        return {"version": self.version, "date": self.date.isoformat(), "tag": self.tag}


def _release(entry: Any, number: int) -> Release:
    where = f"{RELEASE_FILE}: release {number}"
    if not isinstance(entry, dict) or set(entry) != {"version", "date"}:
        raise ReleaseFileInvalid(f"{where}: give exactly `version` and `date`")
    version, date = entry["version"], entry["date"]
    if not isinstance(version, str) or not _VERSION.fullmatch(version):
        raise ReleaseFileInvalid(
            f"{where}: version {version!r} is not MAJOR.MINOR.PATCH (quote it: '1.0.0')"
        )
    if isinstance(date, str):
        try:
            date = datetime.date.fromisoformat(date)
        except ValueError:
            date = None
    if not isinstance(date, datetime.date) or isinstance(date, datetime.datetime):
        raise ReleaseFileInvalid(f"{where}: date {entry['date']!r} is not a day (YYYY-MM-DD)")
    return Release(version, date)


def releases(root: Path) -> list[Release]:
    """Every release ``kb-release.yaml`` lists, newest first."""
    path = root / RELEASE_FILE
    try:
        settings = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReleaseFileInvalid(
            f"no {RELEASE_FILE} in {root}: write one listing the releases (`releases: []` "
            "before the first)"
        ) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ReleaseFileInvalid(f"{RELEASE_FILE} cannot be read: {error}") from None
    if not isinstance(settings, dict) or not isinstance(settings.get("releases"), list):
        raise ReleaseFileInvalid(
            f"{RELEASE_FILE}: give `releases:`, a list (empty before the first)"
        )
    listed = [_release(entry, number) for number, entry in enumerate(settings["releases"], 1)]
    for newer, older in itertools.pairwise(listed):
        if newer.numbers <= older.numbers or newer.date < older.date:
            raise ReleaseFileInvalid(
                f"{RELEASE_FILE}: list the newest release first: {newer.version} "
                f"({newer.date}) comes before {older.version} ({older.date})"
            )
    return listed


def current_release(root: Path) -> Release | None:
    """The latest release, or None before the first: what the site footer prints."""
    listed = releases(root)
    return listed[0] if listed else None


# --- The next version -----------------------------------------------------------------------


@dataclass(frozen=True)
class Bump:
    """Which part of the version the changes since the last release call for, and why."""

    part: str | None  # major, minor, patch; None when nothing changed
    reasons: list[str]


def record_format(reference: str) -> list[tuple[str, ...]]:
    """What of the record format reference (``FORMAT_REFERENCE``) makes the format: each
    field's name, whether it is required and its type, and each vocabulary's values, under
    their headings; descriptions left out."""
    rows: list[tuple[str, ...]] = []
    heading, columns = "", 0
    for line in reference.splitlines():
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        elif line.startswith("| Field |"):
            columns = 3
        elif line.startswith("| Value |"):
            columns = 1
        elif line.startswith("|") and not line.startswith("| ---"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            rows.append((heading, *cells[:columns]))
    return rows


def bump_for(diff: Diff | None, format_changed: bool) -> Bump:
    """The rule (``BUMP_RULE``): the largest part any change calls for. ``diff`` is None when
    the last release's records do not validate with this version of kb: the format changed."""
    if diff is None:
        return Bump("major", ["the records of the last release do not validate any more"])
    if format_changed:
        return Bump("major", [f"the record format changed ({FORMAT_REFERENCE})"])
    reasons, parts = [], set()
    for kind in KINDS:
        for change, count in diff.counts(kind.key).items():
            if count:
                reasons.append(f"{kind.counted(count)} {change}")
                parts.add("patch" if change == "changed" else "minor")
    part = next((part for part in PARTS if part in parts), None)
    return Bump(part, reasons or ["no record changed"])


def next_version(release: Release | None, part: str | None) -> str | None:
    """The version after ``release`` when ``part`` changes; the first is ``FIRST_VERSION``."""
    if release is None:
        return FIRST_VERSION
    if part is None:
        return None
    major, minor, patch = release.numbers
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"


@dataclass(frozen=True)
class Suggestion:
    """What ``kb release --bump`` reports."""

    last: Release | None
    bump: Bump
    next: str | None
    diff: Diff | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "last": self.last.as_dict() if self.last else None,
            "part": self.bump.part,
            "reasons": self.bump.reasons,
            "next": self.next,
            "changes": self.diff.as_dict() if self.diff else None,
        }


def _format_changed(paths: Paths, tag: str) -> bool:
    """Whether the record format reference at ``tag`` differs, in what makes the format, from
    the one the code generates now; False when the tag has none to compare."""
    from kb.records.reference import record_format_markdown

    try:
        before = git(paths.root, "show", f"{tag}:./{FORMAT_REFERENCE}").decode("utf-8")
    except (RevisionNotFound, UnicodeDecodeError):
        return False
    return record_format(before) != record_format(record_format_markdown())


def suggest_next(paths: Paths) -> Suggestion:
    """Compare the last release's tag with the working tree, and apply ``BUMP_RULE``."""
    last = current_release(paths.root)
    if last is None:
        return Suggestion(None, Bump("major", ["the first release"]), FIRST_VERSION, None)
    try:
        resolve(paths.root, last.tag)
    except RevisionNotFound:
        raise ReleaseFileInvalid(
            f"{RELEASE_FILE} lists release {last.version}, but git has no tag {last.tag} to "
            f"compare with: tag the commit it was made from (`git tag {last.tag} COMMIT`), or "
            "fetch the tags (`git fetch --tags`)"
        ) from None
    try:
        old = revision(paths, last.tag)
    except RevisionInvalid:
        bump = bump_for(None, False)
        return Suggestion(last, bump, next_version(last, bump.part), None)
    diff = compare(old.document, working_tree(paths).document)
    bump = bump_for(diff, _format_changed(paths, last.tag))
    return Suggestion(last, bump, next_version(last, bump.part), diff)
