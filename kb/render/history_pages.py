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
import gettext
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kb.history.diff import KINDS
from kb.history.log import CommitChanges
from kb.history.published import PublishedHistory
from kb.history.releases import ReleaseChanges
from kb.history.timelines import Event
from kb.localization import ENGLISH, day_in, translations
from kb.records.vocabularies import RecordType
from kb.render.model import SiteModel
from kb.render.pages import PageWriter
from kb.store.aliases import Aliases, Removed, Renamed, aliases_in_document

# At most this many records of one kind and change are listed for a commit; the rest counted.
MOST_LISTED = 12
# At most this many of a changed record's fields are described.
MOST_FIELDS = 4
# The fields of an evidence link the headline rule reads: described in full on a timeline.
LEVEL_FIELDS = ("relation", "strength", "recommendation", "study")
CHANGES_PAGE = "changes/"
_TYPE_OF = {kind.key: kind.key[:-1] if kind.key != "studies" else "study" for kind in KINDS}
_TYPE_OF.update({"evidence": "evidence"})


def N_(message: str) -> str:
    """A message for the catalogue, translated where it is printed."""
    return message


# ``kb diff``'s words for a record's change and a headline's move, as a page says them.
CHANGES = {
    "added": N_("Added: "),
    "removed": N_("Removed: "),
    "renamed": N_("Renamed: "),
    "changed": N_("Changed: "),
}
COUNTED = {
    "added": N_("%(num)d added"),
    "removed": N_("%(num)d removed"),
    "renamed": N_("%(num)d renamed"),
    "changed": N_("%(num)d changed"),
}
MOVES = {
    "added": N_("added"),
    "removed": N_("removed"),
    "renamed": N_("renamed"),
    "changed": N_("changed"),
    "up": N_("up"),
    "down": N_("down"),
    "now rated": N_("now rated"),
    "no longer rated": N_("no longer rated"),
}
KIND_NAMES = {
    "sources": (N_("sources"), N_("Sources")),
    "themes": (N_("themes"), N_("Themes")),
    "recommendations": (N_("recommendations"), N_("Recommendations")),
    "studies": (N_("studies"), N_("Studies")),
    "evidence": (N_("evidence links"), N_("Evidence links")),
    "examples": (N_("practice examples"), N_("Practice examples")),
    "figures": (N_("key figures"), N_("Key figures")),
}


@dataclass(frozen=True)
class Piece:
    """Part of a sentence: text, linked to a record's page when ``record`` is given
    (record type, ID, and for an evidence link its recommendation)."""

    text: str
    record: tuple[str, str, str | None] | None = None
    english: bool = False  # record text, or words kept from an English history: marked so


Line = list[Piece]


def day(iso: str, language: str = ENGLISH) -> str:
    """``2026-12-04`` → ``4 December 2026`` (in Welsh, ``4 Rhagfyr 2026``)."""
    return day_in(datetime.date.fromisoformat(iso), language)


class Resolver:
    """What a record ID from the history links to on the site now."""

    def __init__(self, model: SiteModel, language: str = ENGLISH) -> None:
        self.model = model
        self.language = language
        self.words: gettext.NullTranslations = translations(language)
        self.aliases: Aliases = aliases_in_document(model.document)
        self.links = {link["id"]: link for link in model.evidence}
        # Every kind of record with a page, read alike: by ID, for a title or a name.
        self.tables: dict[str, Mapping[str, Mapping[str, Any]]] = {
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
            label = text or self.label(record_type, target)
            return Piece(label, (record_type, target, None), english=True)
        if isinstance(found, Removed) and found.record_type == record_type:
            return Piece(text or record_id, (record_type, found.id, None), english=True)
        return Piece(text or record_id, english=True)

    def label(self, record_type: str, record_id: str) -> str:
        if record_type == "study":
            return self.model.study_label(record_id)
        record = self.tables[record_type][record_id]
        return str(record.get("title") or record.get("name") or record_id)

    def link(self, link_id: str, text: str | None = None) -> Piece:
        """An evidence link's row on its recommendation's page, while it is there."""
        link = self.links.get(link_id)
        if link is None:
            return Piece(text or link_id, english=True)
        return Piece(text or link_id, ("evidence", link_id, link["recommendation"]), english=True)

    def say(self, message: str, **values: Any) -> Piece:
        """Our words, in the pages' language, with ``values`` put in."""
        said = self.words.gettext(message)
        return Piece(said % values if values else said)

    def sentence(self, message: str, **values: str | Line) -> Line:
        """Our words, in the pages' language, around ``values``: record IDs and other text
        kept as it is (marked English), or pieces of their own."""
        line: Line = []
        for index, part in enumerate(re.split(r"%\((\w+)\)s", self.words.gettext(message))):
            if index % 2 == 0:
                line += [Piece(part)] if part else []
            else:
                value = values[part]
                line += [Piece(value, english=True)] if isinstance(value, str) else value
        return line

    def say_count(self, one: str, many: str, number: int, **values: Any) -> Piece:
        """Our words about ``number`` things, in the plural form the language gives it."""
        return Piece(self.words.ngettext(one, many, number) % {"num": number, **values})


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
        said = resolver.words.gettext("the site was built without its history")
        return RecommendationHistory(said, False, [], [])
    if published.unavailable:
        return RecommendationHistory(published.unavailable, published.history.uncommitted, [], [])
    timelines = published.timelines
    events = timelines.current.get(rec_id) or timelines.removed.get(rec_id, [])
    return RecommendationHistory(
        None,
        published.history.uncommitted,
        _steps(events, resolver.language),
        [_event_view(event, resolver) for event in reversed(events)],
    )


def _steps(events: list[Event], language: str) -> list[tuple[str, str | None]]:
    steps: list[tuple[str, str | None]] = []
    for event in events:
        if not steps or event.added or event.level != steps[-1][1]:
            steps.append((day(event.date, language), event.level))
    return steps


def _event_view(event: Event, resolver: Resolver) -> EventView:
    moved = event.moved
    say = resolver.words.gettext
    words = None
    if moved == "up":
        words = say("up from %(level)s") % {"level": event.previous}
    elif moved == "down":
        words = say("down from %(level)s") % {"level": event.previous}
    elif moved:
        words = say(MOVES[moved])
    view = EventView(
        event.date,
        day(event.date, resolver.language),
        event.sha[:7],
        event.level,
        words,
        moved.replace(" ", "-") if moved else None,
    )
    if event.added:
        links = event.links_added_with_it
        view.lines.append(
            [
                resolver.say_count(
                    "Added to the knowledge base, with %(num)d evidence link.",
                    "Added to the knowledge base, with %(num)d evidence links.",
                    links,
                )
                if links
                else resolver.say("Added to the knowledge base.")
            ]
        )
    if event.renamed_from:
        view.lines.append(resolver.sentence("Renamed from %(id)s.", id=event.renamed_from))
    if moved and event.reason:
        level = event.level or say("not judged")
        # The reason is as the history recorded it, in English.
        view.lines.append(
            [
                resolver.say("Headline now %(level)s:", level=level),
                Piece(" "),
                Piece(event.reason, english=True),
                Piece("."),
            ]
        )
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
        view.lines.append(
            [
                resolver.say("Its own record was edited:"),
                Piece(" "),
                Piece(", ".join(names), english=True),
                Piece("."),
            ]
        )
    return view


def _level_fields(change: dict[str, Any]) -> list[str]:
    return [item["words"] for item in change["fields"] if item["field"] in LEVEL_FIELDS]


def _edited_links_line(changes: list[dict[str, Any]], resolver: Resolver) -> Line:
    """Evidence links edited without a change to what the level rule reads, in one line."""
    fields = sorted({item["field"] for change in changes for item in change["fields"]})
    line = [
        resolver.say_count(
            "%(num)d evidence link edited, levels unchanged",
            "%(num)d evidence links edited, levels unchanged",
            len(changes),
        ),
        Piece(" ("),
        Piece(", ".join(fields), english=True),
        Piece("): "),
    ]
    for index, change in enumerate(changes):
        if index:
            line.append(Piece(", "))
        line.append(resolver.record("study", change["study"]))
    line.append(Piece("."))
    return line


def _link_line(change: dict[str, Any], resolver: Resolver) -> Line:
    """An evidence link that changed, as a timeline says it: the fields the level rule reads
    in full, the others by name (as ``kb diff`` words them, in English)."""
    study = resolver.record("study", change["study"])
    what = {
        "added": N_("Evidence added: "),
        "removed": N_("Evidence removed: "),
        "renamed": N_("Evidence link renamed: "),
        "changed": N_("Evidence changed: "),
    }[change["change"]]
    line = [resolver.say(what), study]
    if change["label"]:
        line += [Piece(", "), Piece(change["label"], english=True)]
    level = _level_fields(change)
    others = [item["field"] for item in change["fields"] if item["field"] not in LEVEL_FIELDS]
    if level:
        line += [Piece(" ("), Piece("; ".join(level), english=True), Piece(")")]
    if others:
        line.append(resolver.say("; also edited: ") if level else resolver.say("; edited: "))
        line.append(Piece(", ".join(others), english=True))
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
    """A ``kb.history.diff.Diff.as_dict()`` in sentences."""
    say = resolver.words.gettext
    counts = [
        say("%(kind)s: %(changes)s")
        % {
            "kind": say(KIND_NAMES[key][0]),
            "changes": ", ".join(
                say(COUNTED[change]) % {"num": count} for change, count in changes.items() if count
            ),
        }
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
                Group(say(KIND_NAMES[kind.key][1]), lines, max(len(changes) - MOST_LISTED, 0))
            )
    return DiffView(counts, headlines, groups)


def _headline_line(move: dict[str, Any], resolver: Resolver) -> Line:
    say = resolver.words.gettext
    old, new = move["old"] or say("not judged"), move["new"] or say("not judged")
    line = [
        resolver.record("recommendation", move["recommendation"], move["title"] or None),
        resolver.say(
            ": %(old)s → %(new)s, %(direction)s. Now:",
            old=old,
            new=new,
            direction=say(MOVES[move["direction"]]),
        ),
        Piece(" "),
        Piece(move["reason"], english=True),  # as the history recorded it, in English
        Piece("."),
    ]
    if move["links"]:
        moved_by: Line = []
        for link in move["links"]:
            moved_by += [Piece(", ")] if moved_by else []
            moved_by += [Piece(f"{say(MOVES[link['change']])} "), Piece(link["id"], english=True)]
        line += resolver.sentence(" Links that moved it: %(links)s.", links=moved_by)
    return line


def _record_line(key: str, change: dict[str, Any], resolver: Resolver) -> Line:
    record_type = _TYPE_OF[key]
    if record_type == "evidence":
        target = resolver.link(change["id"])
    else:
        target = resolver.record(record_type, change["id"], change["label"] or None)
    line = [resolver.say(CHANGES[change["change"]]), target]
    if record_type != "evidence" and change["label"]:
        line += [Piece(" ("), Piece(change["id"], english=True), Piece(")")]
    elif change["label"]:
        line += [Piece(" ("), Piece(change["label"], english=True), Piece(")")]
    if change["old_id"]:
        line += resolver.sentence(", formerly %(id)s", id=change["old_id"])
    fields = [item["words"] for item in change["fields"]]
    if fields:
        line += [Piece(": "), Piece("; ".join(fields[:MOST_FIELDS]), english=True)]
        rest = len(fields) - MOST_FIELDS
        if rest > 0:
            line.append(
                resolver.say_count("; and %(num)d more field", "; and %(num)d more fields", rest)
            )
    return line


def release_views(published: PublishedHistory, resolver: Resolver) -> list[ReleaseView]:
    """The changes not released yet, then each release, newest first."""
    return [_release_view(changes, resolver) for changes in published.releases]


def _release_view(changes: ReleaseChanges, resolver: Resolver) -> ReleaseView:
    release = changes.release
    return ReleaseView(
        release.version if release else None,
        day(release.date.isoformat(), resolver.language) if release else None,
        changes.previous.version if changes.previous else None,
        f"{CHANGES_PAGE}{release.version}/" if release else None,
        diff_view(changes.diff, resolver) if changes.diff else None,
        [_commit_view(commit, resolver) for commit in changes.commits],
        changes.unavailable,
    )


def _commit_view(commit: CommitChanges, resolver: Resolver) -> CommitView:
    view = diff_view(commit.diff, resolver)
    return CommitView(commit.sha[:7], commit.date, day(commit.date, resolver.language), view)


def install_history(writer: PageWriter, published: PublishedHistory | None) -> None:
    """Give the writer's pages the history: each recommendation's section
    (``writer.history_of``) and the filters the history's templates use."""
    resolver = Resolver(writer.model, writer.language)
    writer.history_of = functools.partial(recommendation_history, published, resolver)
    writer.history_version = published.version.as_dict() if published else None
    say = resolver.words.gettext
    writer.env.filters.update(
        day=lambda iso: day(iso, writer.language),
        version_label=lambda version: version.label(resolver.words, writer.language),
        record_type=lambda value: say(RecordType(value).label),
    )


def write_history_pages(writer: PageWriter, published: PublishedHistory | None) -> None:
    """Write the "what changed" pages: ``changes/``, and one per release."""
    resolver = Resolver(writer.model, writer.language)
    views = release_views(published, resolver) if published else []
    page = {"search": {"exclude": True}}
    writer.write("changes/index.md", "changes.md.j2", page, published=published, releases=views)
    for view in views:
        if view.version is not None:
            writer.write(f"changes/{view.version}.md", "release.md.j2", page, release=view)
