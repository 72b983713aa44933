"""Everything a build says about the history, gathered once: the commits' changes, the
content version, each recommendation's timeline, and the releases' changes."""

from dataclasses import dataclass
from pathlib import Path

from kb.history.log import History, read_history
from kb.history.releases import ReleaseChanges, release_changes
from kb.history.timelines import Timelines, recommendation_timelines
from kb.history.version import ContentVersion, content_version


@dataclass(frozen=True)
class PublishedHistory:
    """The history as the site and the downloads show it."""

    history: History
    version: ContentVersion
    timelines: Timelines
    releases: list[ReleaseChanges]  # the changes not released yet first, then newest first

    @property
    def unavailable(self) -> str | None:
        return self.history.unavailable


def published_history(root: Path, cache: Path) -> PublishedHistory:
    """The history of the knowledge base at ``root``, with ``cache`` the folder that keeps
    what was worked out for each commit (``kb.history.log``)."""
    history = read_history(root, cache)
    return PublishedHistory(
        history,
        content_version(root, history),
        recommendation_timelines(history),
        release_changes(root, history, cache),
    )
