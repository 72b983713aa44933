"""Each recommendation's dated history: its headline level, and its evidence links, commit by
commit, from what each commit changed (``kb.history.log``).

A recommendation renamed keeps its history under its new ID; one removed keeps it too
(``Timelines.removed``), for the page that says it was removed.
"""

from dataclasses import dataclass, field
from typing import Any

from kb.history.log import CommitChanges, History


@dataclass
class Event:
    """What one commit changed for one recommendation."""

    sha: str
    date: str  # YYYY-MM-DD
    level: str | None  # the headline level after the commit (None: not judged)
    previous: str | None  # the headline level before it
    reason: str = ""  # why the level is what it is after it
    added: bool = False
    removed: bool = False
    renamed_from: str | None = None
    fields: list[str] = field(default_factory=list)  # its own fields that changed, in words
    # The evidence links on it that changed: ``RecordChange.as_dict()``, with the ``study``.
    links: list[dict[str, Any]] = field(default_factory=list)
    links_added_with_it: int = 0  # evidence links added in the commit that added it

    @property
    def moved(self) -> str | None:
        """How the headline moved: up, down, now rated, no longer rated; None if it did not."""
        if self.added or self.level == self.previous:
            return None
        if self.previous is None:
            return "now rated"
        if self.level is None:
            return "no longer rated"
        return "up" if self.level > self.previous else "down"  # S0 < S1 < … < S5


@dataclass
class Timelines:
    """Every recommendation's events, oldest first, by its ID now."""

    current: dict[str, list[Event]] = field(default_factory=dict)
    removed: dict[str, list[Event]] = field(default_factory=dict)


def recommendation_timelines(history: History) -> Timelines:
    """Each recommendation's events, from the commits of ``history``."""
    timelines = Timelines()
    level_now: dict[str, str | None] = {}
    for commit in history.commits:
        for rec_id, event in _events(commit, timelines, level_now).items():
            if event.removed:
                timelines.removed[rec_id] = [*timelines.current.pop(rec_id, []), event]
            else:
                timelines.current.setdefault(rec_id, []).append(event)
    return timelines


def _events(
    commit: CommitChanges, timelines: Timelines, level_now: dict[str, str | None]
) -> dict[str, Event]:
    """One commit's events, by recommendation; ``timelines`` and ``level_now`` follow its
    renames, and ``level_now`` its levels."""
    events: dict[str, Event] = {}
    renamed: dict[str, str] = {}

    def event(rec_id: str) -> Event:
        if rec_id not in events:
            now = level_now.get(rec_id)
            events[rec_id] = Event(commit.sha, commit.date, now, now)
        return events[rec_id]

    diff = commit.diff
    for change in diff["records"]["recommendations"]:
        rec_id = change["id"]
        if change["change"] == "renamed":
            old = change["old_id"]
            renamed[old] = rec_id
            if old in timelines.current:
                timelines.current[rec_id] = timelines.current.pop(old)
            level_now[rec_id] = level_now.pop(old, None)
            event(rec_id).renamed_from = old
        elif change["change"] == "added":
            event(rec_id).added = True
            events[rec_id].previous = None
        elif change["change"] == "removed":
            event(rec_id).removed = True
        words = [item["words"] for item in change["fields"] if item["field"] != "former_ids"]
        if words:
            event(rec_id).fields = words
    for move in diff["headlines"]:
        event(move["recommendation"]).previous = move["old"]
    for change in diff["records"]["evidence"]:
        if change["id"] not in commit.links:
            continue
        rec_id, study_id = commit.links[change["id"]]
        rec_event = event(renamed.get(rec_id, rec_id))
        if rec_event.added and change["change"] == "added":
            rec_event.links_added_with_it += 1
        else:
            rec_event.links.append({**change, "study": study_id})
    for rec_id, (level, reason) in commit.levels.items():
        level_now[rec_id] = level
        if rec_id in events:
            events[rec_id].level = level
            events[rec_id].reason = reason
    return events
