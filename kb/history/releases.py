"""What each content release changed: ``kb diff`` from the previous release's tag (or from
the start) to its own, and the commits it brought; and the commits since the last release.

A release's tag (``v`` + version, ``kb.history.release``) names the commit it was made from. Its
comparison is worked out once and cached (``cache/releases/OLD..NEW.json``); a release whose
tag this clone lacks is listed with the reason its changes cannot be shown.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kb.history.diff import compare
from kb.history.documents import document_of, links_of, read_blob
from kb.history.log import FORMAT, CommitChanges, History, write_cache_file
from kb.history.release import RELEASE_FILE, Release, releases
from kb.history.repository import (
    Repository,
    first_parent_line,
    open_repository,
    read_blobs,
    tag_commit,
    tree_files,
)


@dataclass
class ReleaseChanges:
    """One release, or the changes not released yet (``release`` None)."""

    release: Release | None
    previous: Release | None  # the release before it; None: from the start
    diff: dict[str, Any] | None = (
        None  # ``kb.history.diff.Diff.as_dict()``, from ``previous`` to it
    )
    commits: list[CommitChanges] = field(default_factory=list)  # newest first, non-empty
    unavailable: str | None = None  # why its changes cannot be shown


def release_changes(root: Path, history: History, cache: Path) -> list[ReleaseChanges]:
    """The changes not released yet, then each release's, newest first."""
    listed = releases(root) if (root / RELEASE_FILE).exists() else []
    previous: list[Release | None] = [*listed[1:], None] if listed else []
    if history.unavailable is not None:
        return [
            ReleaseChanges(None, listed[0] if listed else None, unavailable=history.unavailable),
            *(
                ReleaseChanges(release, before, unavailable=history.unavailable)
                for release, before in zip(listed, previous, strict=True)
            ),
        ]
    repository, _ = open_repository(root)
    assert repository is not None
    shas = {release.tag: tag_commit(repository, release.tag) for release in listed}
    latest = listed[0] if listed else None
    found: list[ReleaseChanges] = []
    unreleased = ReleaseChanges(None, latest)
    if latest is not None and shas[latest.tag] is None:
        unreleased.unavailable = _no_tag(latest)
    else:
        since = shas[latest.tag] if latest else None
        unreleased.commits = _commits(history, first_parent_line(repository, "HEAD", since))
    found.append(unreleased)
    for release, before in zip(listed, previous, strict=True):
        sha = shas[release.tag]
        before_sha = shas[before.tag] if before else None
        changes = ReleaseChanges(release, before)
        if sha is None or (before is not None and before_sha is None):
            changes.unavailable = _no_tag(release if sha is None else before)  # type: ignore[arg-type]
        else:
            changes.diff = _release_diff(repository, cache, before_sha, sha)
            changes.commits = _commits(history, first_parent_line(repository, sha, before_sha))
        found.append(changes)
    return found


def _no_tag(release: Release) -> str:
    return (
        f"this copy of the repository has no tag {release.tag} (fetch the tags with "
        "`git fetch --tags`)"
    )


def _commits(history: History, shas: set[str]) -> list[CommitChanges]:
    return [
        commit for commit in reversed(history.commits) if commit.sha in shas and not commit.empty
    ]


def _release_diff(
    repository: Repository, cache: Path, older: str | None, newer: str
) -> dict[str, Any]:
    """``kb diff`` from commit ``older`` (None: nothing) to ``newer``, cached."""
    path = cache / "releases" / f"{older or 'start'}..{newer}.json"
    try:
        saved = json.loads(path.read_bytes())
        if saved.get("format") == FORMAT:
            return saved["diff"]  # type: ignore[no-any-return]
    except (OSError, ValueError):
        pass
    before = _document_at(repository, older) if older else document_of([], [])
    diff = compare(before, _document_at(repository, newer)).as_dict()
    write_cache_file(path, {"format": FORMAT, "diff": diff})
    return diff


def _document_at(repository: Repository, sha: str) -> dict[str, Any]:
    """The export document of every record at commit ``sha``."""
    files = tree_files(repository, sha)
    blobs = read_blobs(repository, (f.blob for f in files if f.blob is not None))
    records = [
        record
        for change in files
        if change.blob is not None and (record := read_blob(change.path, blobs[change.blob]))
    ]
    links = [link for kind, data in records if kind == "study" for link in links_of(data)]
    return document_of(records, links)
