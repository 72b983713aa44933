"""The history on the site: each recommendation's dated history section, and the "what
changed" pages (``changes/``: the changes not released yet, then one page per release), from
``kb.history``.

The views here turn what each commit changed (``kb diff``'s terms) into sentences made of
``Piece``s: plain text, or a link to a record that is on the site now (a former ID is
followed to the record it became, a removed record's ID to the page saying so). The
templates print them, so every piece of record text is made inert as everywhere else, and
the links are relative to the page being written.
"""

import datetime
import functools
from dataclasses import dataclass, field
from typing import Any

from kb.aliases import Aliases, Removed, Renamed, aliases_in_document
from kb.diff import KIND_BY_KEY, KINDS
from kb.history.log import CommitChanges
from kb.history.published import PublishedHistory
from kb.history.releases import ReleaseChanges
from kb.history.timelines import Event
from kb.render.model import SiteModel
from kb.render.pages import PageWriter
from kb.vocabularies import RecordType

# At most this many records of one kind and change are listed for a commit; the rest counted.
MOST_LISTED = 12
# At most this many of a changed record's fields are described.
MOST_FIELDS = 4
# The fields of an evidence link the headline rule reads: described in full on a timeline.
LEVEL_FIELDS = ("relation", "strength", "recommendation", "study")
CHANGES_PAGE = "changes/"
_TYPE_OF = {kind.key: kind.key[:-1] if kind.key != "studies" else "study" for kind in KINDS}
_TYPE_OF.update({"evidence": "evidence"})


@dataclass(frozen=True)
class Piece:
    """Part of a sentence: text, linked to a record's page when ``record`` is given
    (record type, ID, and for an evidence link its recommendation)."""

    text: str
    record: tuple[str, str, str | None] | None = None


Line = list[Piece]


def day(iso: str) -> str:
    """``2026-12-04`` → ``4 December 2026``."""
    date = datetime.date.fromisoformat(iso)
    return f"{date.day} {date:%B %Y}"


class Resolver:
    """What a record ID from the history links to on the site now."""

    def __init__(self, model: SiteModel) -> None:
        self.model = model
        self.aliases: Aliases = aliases_in_document(model.document)
        self.links = {link["id"]: link for link in model.evidence}
        self.tables = {
            "source": model.sources,
            "theme": model.themes,
            "recommendation": model.recommendations,
            "study": model.studies,
            "example": model.examples,
            "figure": model.figures,
        }

    def record(self, record_type: str, record_id: str, text: str | None = None) -> Piece:
        """A link to the record ``record_id`` now is (the record a former ID became, or the
        page of a removed one); plain text when the site has no page for it."""
        table = self.tables[record_type]
        found = self.aliases.find(record_id)
        target = record_id
        if record_id not in table and isinstance(found, Renamed) and found.new_id in table:
            target = found.new_id
        if target in table:
            return Piece(text or self.label(record_type, target), (record_type, target, None))
        if isinstance(found, Removed) and found.record_type == record_type:
            return Piece(text or record_id, (record_type, found.id, None))
        return Piece(text or record_id)

    def label(self, record_type: str, record_id: str) -> str:
        if record_type == "study":
            return self.model.study_label(record_id)
        record = self.tables[record_type][record_id]
        return str(record.get("title") or record.get("name") or record_id)

    def link(self, link_id: str, text: str | None = None) -> Piece:
        """An evidence link's row on its recommendation's page, while it is there."""
        link = self.links.get(link_id)
        if link is None:
            return Piece(text or link_id)
        return Piece(text or link_id, ("evidence", link_id, link["recommendation"]))


# --- A recommendation's history -------------------------------------------------------------


@dataclass
class EventView:
    """One dated entry of a recommendation's history."""

    date: str
    day: str
    sha: str
    level: str | None
    moved: str | None  # "up from S1", "down from S3", "now rated", or None
    direction: str | None  # up, down, now-rated, no-longer-rated: for the marker's style
    lines: list[Line] = field(default_factory=list)


@dataclass
class RecommendationHistory:
    """A recommendation page's history section."""

    unavailable: str | None
    uncommitted: bool
    steps: list[tuple[str, str | None]]  # (day, level) each time the headline changed, oldest first
    events: list[EventView]  # newest first


def recommendation_history(
    published: PublishedHistory | None, resolver: Resolver, rec_id: str
) -> RecommendationHistory:
    """The history section of ``rec_id``'s page."""
    if published is None:
        return RecommendationHistory("the site was built without its history", False, [], [])
    if published.unavailable:
        return RecommendationHistory(published.unavailable, published.history.uncommitted, [], [])
    timelines = published.timelines
    events = timelines.current.get(rec_id) or timelines.removed.get(rec_id, [])
    return RecommendationHistory(
        None,
        published.history.uncommitted,
        _steps(events),
        [_event_view(event, resolver) for event in reversed(events)],
    )


def _steps(events: list[Event]) -> list[tuple[str, str | None]]:
    steps: list[tuple[str, str | None]] = []
    for event in events:
        if not steps or event.added or event.level != steps[-1][1]:
            steps.append((day(event.date), event.level))
    return steps


def _event_view(event: Event, resolver: Resolver) -> EventView:
    moved = event.moved
    words = None
    if moved in ("up", "down"):
        words = f"{moved} from {event.previous}"
    elif moved:
        words = moved
    view = EventView(
        event.date,
        day(event.date),
        event.sha[:7],
        event.level,
        words,
        moved.replace(" ", "-") if moved else None,
    )
    if event.added:
        links = event.links_added_with_it
        with_links = f", with {links} evidence link{'s' if links != 1 else ''}" if links else ""
        view.lines.append([Piece(f"Added to the knowledge base{with_links}.")])
    if event.renamed_from:
        view.lines.append([Piece(f"Renamed from {event.renamed_from}.")])
    if moved and event.reason:
        view.lines.append([Piece(f"Headline now {event.level or 'not judged'}: {event.reason}.")])
    edited: list[dict[str, Any]] = []  # links whose level did not change: one line for all
    for change in event.links:
        if change["change"] == "changed" and not _level_fields(change):
            edited.append(change)
        else:
            view.lines.append(_link_line(change, resolver))
    if edited:
        view.lines.append(_edited_links_line(edited, resolver))
    if event.fields:
        names = sorted({words.split(" ")[0].rstrip(":") for words in event.fields})
        view.lines.append([Piece(f"Its own record was edited: {', '.join(names)}.")])
    return view


def _level_fields(change: dict[str, Any]) -> list[str]:
    return [item["words"] for item in change["fields"] if item["field"] in LEVEL_FIELDS]


def _edited_links_line(changes: list[dict[str, Any]], resolver: Resolver) -> Line:
    """Evidence links edited without a change to what the level rule reads, in one line."""
    fields = sorted({item["field"] for change in changes for item in change["fields"]})
    count = len(changes)
    line = [
        Piece(
            f"{count} evidence link{'s' if count != 1 else ''} edited, levels unchanged "
            f"({', '.join(fields)}): "
        )
    ]
    for index, change in enumerate(changes):
        if index:
            line.append(Piece(", "))
        line.append(resolver.record("study", change["study"]))
    line.append(Piece("."))
    return line


def _link_line(change: dict[str, Any], resolver: Resolver) -> Line:
    """An evidence link that changed, as a timeline says it: the fields the level rule reads
    in full, the others by name."""
    study = resolver.record("study", change["study"])
    what = {
        "added": "Evidence added: ",
        "removed": "Evidence removed: ",
        "renamed": "Evidence link renamed: ",
        "changed": "Evidence changed: ",
    }[change["change"]]
    line = [Piece(what), study]
    if change["label"]:
        line.append(Piece(f", {change['label']}"))
    level = _level_fields(change)
    others = [item["field"] for item in change["fields"] if item["field"] not in LEVEL_FIELDS]
    if level:
        line.append(Piece(f" ({'; '.join(level)})"))
    if others:
        line.append(Piece(f"; {'also ' if level else ''}edited: {', '.join(others)}"))
    line.append(Piece("."))
    return line


# --- What changed -----------------------------------------------------------------------------


@dataclass
class Group:
    """One kind of record's changes in a commit or release."""

    heading: str
    lines: list[Line]
    more: int  # how many more are not listed


@dataclass
class DiffView:
    """A ``kb diff`` laid out for a page."""

    counts: list[str]
    headlines: list[Line]
    groups: list[Group]


@dataclass
class CommitView:
    sha: str
    date: str
    day: str
    diff: DiffView


@dataclass
class ReleaseView:
    """The changes not released yet (``version`` None), or one release's."""

    version: str | None
    day: str | None
    previous: str | None  # the release before it, if any
    path: str | None  # its page, for a release
    diff: DiffView | None
    commits: list[CommitView]
    unavailable: str | None


def diff_view(diff: dict[str, Any], resolver: Resolver) -> DiffView:
    """A ``kb.diff.Diff.as_dict()`` in sentences."""
    counts = [
        f"{KIND_BY_KEY[key].plural}: "
        + ", ".join(f"{count} {change}" for change, count in changes.items() if count)
        for key, changes in diff["counts"].items()
        if any(changes.values())
    ]
    headlines = [_headline_line(move, resolver) for move in diff["headlines"]]
    groups = []
    for kind in KINDS:
        changes = diff["records"][kind.key]
        if changes:
            lines = [_record_line(kind.key, change, resolver) for change in changes[:MOST_LISTED]]
            groups.append(
                Group(kind.plural.capitalize(), lines, max(len(changes) - MOST_LISTED, 0))
            )
    return DiffView(counts, headlines, groups)


def _headline_line(move: dict[str, Any], resolver: Resolver) -> Line:
    old, new = move["old"] or "not judged", move["new"] or "not judged"
    line = [
        resolver.record("recommendation", move["recommendation"], move["title"] or None),
        Piece(f": {old} → {new}, {move['direction']}. Now: {move['reason']}."),
    ]
    if move["links"]:
        moved_by = ", ".join(f"{link['change']} {link['id']}" for link in move["links"])
        line.append(Piece(f" Links that moved it: {moved_by}."))
    return line


def _record_line(key: str, change: dict[str, Any], resolver: Resolver) -> Line:
    record_type = _TYPE_OF[key]
    if record_type == "evidence":
        target = resolver.link(change["id"])
    else:
        target = resolver.record(record_type, change["id"], change["label"] or None)
    line = [Piece(f"{change['change'].capitalize()}: "), target]
    if record_type != "evidence" and change["label"]:
        line.append(Piece(f" ({change['id']})"))
    elif change["label"]:
        line.append(Piece(f" ({change['label']})"))
    if change["old_id"]:
        line.append(Piece(f", formerly {change['old_id']}"))
    fields = [item["words"] for item in change["fields"]]
    if fields:
        listed = "; ".join(fields[:MOST_FIELDS])
        rest = len(fields) - MOST_FIELDS
        line.append(Piece(f": {listed}" + (f"; and {rest} more fields" if rest > 0 else "")))
    return line


def release_views(published: PublishedHistory, resolver: Resolver) -> list[ReleaseView]:
    """The changes not released yet, then each release, newest first."""
    return [_release_view(changes, resolver) for changes in published.releases]


def _release_view(changes: ReleaseChanges, resolver: Resolver) -> ReleaseView:
    release = changes.release
    return ReleaseView(
        release.version if release else None,
        day(release.date.isoformat()) if release else None,
        changes.previous.version if changes.previous else None,
        f"{CHANGES_PAGE}{release.version}/" if release else None,
        diff_view(changes.diff, resolver) if changes.diff else None,
        [_commit_view(commit, resolver) for commit in changes.commits],
        changes.unavailable,
    )


def _commit_view(commit: CommitChanges, resolver: Resolver) -> CommitView:
    view = diff_view(commit.diff, resolver)
    return CommitView(commit.sha[:7], commit.date, day(commit.date), view)


def install_history(writer: PageWriter, published: PublishedHistory | None) -> None:
    """Give the writer's pages the history: each recommendation's section
    (``writer.history_of``) and the filters the history's templates use."""
    resolver = Resolver(writer.model)
    writer.history_of = functools.partial(recommendation_history, published, resolver)
    writer.history_version = published.version.as_dict() if published else None
    writer.env.filters.update(day=day, record_type=lambda value: RecordType(value).label)


def write_history_pages(writer: PageWriter, published: PublishedHistory | None) -> None:
    """Write the "what changed" pages: ``changes/``, and one per release."""
    resolver = Resolver(writer.model)
    views = release_views(published, resolver) if published else []
    page = {"search": {"exclude": True}}
    writer.write("changes/index.md", "changes.md.j2", page, published=published, releases=views)
    for view in views:
        if view.version is not None:
            writer.write(f"changes/{view.version}.md", "release.md.j2", page, release=view)
