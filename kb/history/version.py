"""The version of the content that a build states: in the site's downloads, and wherever the
site says which knowledge base it shows.

It is the latest release that ``kb-release.yaml`` lists (``kb.history.release``), unless the records
changed after that release's tag, and the day the records last changed, from the history
(``kb.history.log``). Without a readable history (a shallow clone, no git) the release is
stated as listed and the day is not known: it is never made up from file times or the day of
the build.
"""

import datetime
import gettext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.history.log import History
from kb.history.release import RELEASE_FILE, Release, releases
from kb.history.repository import changed_since, open_repository
from kb.localization import ENGLISH, day_in


@dataclass(frozen=True)
class ContentVersion:
    """Which content a build holds."""

    release: Release | None  # the latest release listed, if any
    unreleased: bool | None  # records changed after its tag; None when that cannot be told
    updated: str | None  # YYYY-MM-DD: the last commit that changed a record; None: unknown
    commit: str | None  # that commit
    uncommitted: bool  # the working tree's records differ from it

    @property
    def version(self) -> str:
        """The version in a word: ``1.2.0``, ``1.2.0+unreleased``, or ``unreleased``."""
        if self.release is None:
            return "unreleased"
        if self.unreleased or self.uncommitted:
            return f"{self.release.version}+unreleased"
        return self.release.version

    def label(self, words: gettext.NullTranslations | None = None, language: str = ENGLISH) -> str:
        """The version in a sentence's words, with the day it is of, as far as it is known
        (``words``: in another language, whose days ``language`` names)."""
        say = (words or gettext.NullTranslations()).gettext
        if self.release is not None and not (self.unreleased or self.uncommitted):
            return self.release.label(words, language)
        if self.release is None:
            what = say("not yet released")
        else:
            what = say("%(version)s of %(day)s with changes since") % {
                "version": self.release.version,
                "day": day_in(self.release.date, language),
            }
        if self.uncommitted:
            return say("%(what)s, with uncommitted changes to the records") % {"what": what}
        if self.updated:
            day = day_in(datetime.date.fromisoformat(self.updated), language)
            return say("%(what)s, last changed %(day)s") % {"what": what, "day": day}
        return what

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "label": self.label(),
            "release": self.release.version if self.release else None,
            "released_on": self.release.date.isoformat() if self.release else None,
            "changed_since_release": self.unreleased,
            "updated": self.updated,
            "commit": self.commit,
            "uncommitted_changes": self.uncommitted,
        }


def content_version(root: Path, history: History) -> ContentVersion:
    """The content version of the knowledge base at ``root``, given its ``history``. A
    knowledge base without ``kb-release.yaml`` has no release; a malformed one is an error
    (``ReleaseFileInvalid``)."""
    listed = releases(root) if (root / RELEASE_FILE).exists() else []
    latest = listed[0] if listed else None
    last = history.last
    unreleased: bool | None = None
    if latest is not None and history.unavailable is None:
        repository, _ = open_repository(root)
        unreleased = changed_since(repository, latest.tag) if repository else None
    return ContentVersion(
        latest,
        unreleased,
        last.date if last else None,
        last.sha if last else None,
        history.uncommitted,
    )
