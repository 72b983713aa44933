"""The site's interface in more than one language, from gettext catalogues (as MkDocs does it
for its own themes: ``mkdocs/localization.py``).

Every string the site itself says (template headings and labels, the vocabularies' labels, the
strength scale, the navigation) is a message in ``kb/locale/messages.pot``, extracted with Babel
(``kb extract-messages``, or the ``pybabel`` commands in docs/translating.md); each language's
translations are ``kb/locale/LANG/LC_MESSAGES/messages.po``, which a translator edits with
Poedit or Weblate. A translation we drafted that no speaker of the language has reviewed is
marked ``#, fuzzy``: the site still shows it (there is nothing better to show), and says on
every page that its interface translation awaits review while any such draft remains.

The catalogues are read as they are, at build time (no compiled ``.mo`` files to keep in step).
Record text is never translated here: records carry their own Welsh fields, or stay English.
"""

import contextlib
import datetime
import functools
import gettext
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kb.records.document import Document, EvidenceEntry, RecommendationEntry

LOCALE = Path(__file__).parent / "locale"
TEMPLATE = LOCALE / "messages.pot"
MAPPING = LOCALE / "babel.cfg"
DOMAIN = "messages"
ENGLISH = "en"
WELSH = "cy"
# The languages the site is published in; the first is the one the records are written in.
LANGUAGES = (ENGLISH, WELSH)
LANGUAGE_NAMES = {ENGLISH: "English", WELSH: "Cymraeg"}
# A translator's comment on every drafted message we write ourselves.
DRAFT_NOTE = "Draft by the knowledge base team, awaiting review by a Welsh speaker."


def catalogue_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The interface's messages in ``language``: drafts included, English where a message has
    no translation; for English (or a language without a catalogue) the messages themselves."""
    path = catalogue_path(language)
    if language == ENGLISH or not path.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with path.open("rb") as opened:
        catalogue = read_po(opened, locale=language, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=True)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


def day_in(date: datetime.date, language: str = ENGLISH) -> str:
    """``date`` as the pages print it: ``4 December 2026``, in Welsh ``4 Rhagfyr 2026``
    (the month's name from Babel's locale data)."""
    if language == ENGLISH:
        return f"{date.day} {date:%B %Y}"
    from babel.dates import format_date

    return format_date(date, "d MMMM y", locale=language)


class RecordText(str):
    """Record text put into our words: it stays in the language it was written in (English)."""


class Said(str):
    """Our words with record text set among them: the whole as a string (what plain text
    prints), and its ``pieces``, each ``(text, True where it is record text)``, so that an
    HTML or Word writer can mark the record's English as English in a page in Welsh."""

    pieces: tuple[tuple[str, bool], ...]

    def __new__(cls, pieces: Iterable[tuple[str, bool]] = ()) -> "Said":
        kept = tuple((text, record) for text, record in pieces if text)
        said = super().__new__(cls, "".join(text for text, _ in kept))
        said.pieces = kept
        return said


def pieces_of(value: object) -> tuple[tuple[str, bool], ...]:
    """``value``'s pieces: a ``Said``'s own, record text as one record piece, else ours."""
    if isinstance(value, Said):
        return value.pieces
    return ((str(value), isinstance(value, RecordText)),)


_PLACEHOLDER = re.compile(r"%\((\w+)\)([sd])|%%")


def compose(message: str, **values: object) -> Said:
    """``message % values``, keeping apart the values that are record text (``RecordText``)
    or hold some (``Said``), so they can be marked as English where our words are not."""
    pieces: list[tuple[str, bool]] = []
    position = 0
    for match in _PLACEHOLDER.finditer(message):
        pieces.append((message[position : match.start()], False))
        if match.group() == "%%":
            pieces.append(("%", False))
        else:
            value = values[match.group(1)]
            if isinstance(value, int):
                value = match.group() % {match.group(1): value}
            pieces.extend(pieces_of(value))
        position = match.end()
    pieces.append((message[position:], False))
    return Said(pieces)


def joined(values: Iterable[object], separator: str = "") -> Said:
    """``separator.join(values)``, keeping each value's pieces."""
    pieces: list[tuple[str, bool]] = []
    for number, value in enumerate(values):
        if number:
            pieces.append((separator, False))
        pieces.extend(pieces_of(value))
    return Said(pieces)


@dataclass(frozen=True)
class CatalogueState:
    """How complete one language's catalogue is against the extracted messages."""

    language: str
    messages: int  # messages extracted from the code and templates
    translated: int  # of them, with a translation (drafts included)
    drafts: int  # of those, drafts no speaker of the language has reviewed (fuzzy)
    missing: tuple[str, ...]  # messages with no translation at all

    @property
    def reviewed(self) -> int:
        return self.translated - self.drafts


def _message_ids(catalogue: Any) -> Iterator[Any]:
    for message in catalogue:
        if message.id:
            yield message


def catalogue_state(language: str = WELSH) -> CatalogueState:
    """Count the messages of ``messages.pot`` that ``language``'s catalogue translates, and how
    many of those translations are drafts."""
    from babel.messages.pofile import read_po

    with TEMPLATE.open("rb") as opened:
        template = read_po(opened)
    path = catalogue_path(language)
    with path.open("rb") as opened:
        catalogue = read_po(opened, locale=language)
    translated = drafts = 0
    missing = []
    for message in _message_ids(template):
        entry = catalogue.get(message.id)
        strings = [] if entry is None else list(_strings(entry.string))
        if entry is None or not strings or not all(strings):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
            continue
        translated += 1
        drafts += entry.fuzzy
    return CatalogueState(
        language, len(list(_message_ids(template))), translated, drafts, tuple(missing)
    )


def _strings(value: str | tuple[str, ...] | list[str] | None) -> Iterator[str]:
    if value is not None:
        yield from ([value] if isinstance(value, str) else value)


def extract_messages(update: bool = True) -> CatalogueState:
    """Extract every message into ``messages.pot`` and, with ``update``, merge it into each
    language's catalogue (new messages arrive untranslated, changed ones fuzzy), as
    ``pybabel extract`` and ``pybabel update`` would. Returns the Welsh catalogue's state."""
    from babel.messages.frontend import CommandLineInterface

    with contextlib.chdir(LOCALE.parent.parent):  # the mapping's patterns are relative to it
        CommandLineInterface().run(  # type: ignore[no-untyped-call]  # Babel's CLI is untyped
            [
                *("pybabel", "-q", "extract", "-F", str(MAPPING), "-o", str(TEMPLATE)),
                *("--project", "kb", "--no-location", "--sort-output", "-c", "Translators:"),
                *("-k", "N_", "-k", "count_forms:1,2"),  # kb.render.script_words' plural messages
                *("-k", "say", "-k", "say_count:1,2", "-k", "sentence"),  # kb.render.history_pages
                *("--ignore-dirs", "build site tests evidence recommendations"),
                ".",
            ]
        )
    if update:
        for language in LANGUAGES[1:]:
            CommandLineInterface().run(  # type: ignore[no-untyped-call]
                [
                    *("pybabel", "-q", "update", "-i", str(TEMPLATE), "-d", str(LOCALE)),
                    *("-l", language, "--ignore-obsolete", "--no-fuzzy-matching"),
                ]
            )
    return catalogue_state()


def extract_vocabularies(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for ``kb/records/models.py``: every vocabulary label and strength definition,
    which the pages print through the ``label`` and ``level_definition`` filters."""
    from kb.records.vocabularies import LABELS, RECORD_TYPE_LABELS, STRENGTH_DEFINITIONS

    for label in [*LABELS.values(), *RECORD_TYPE_LABELS.values(), "Not judged"]:
        yield 0, "gettext", label, ["A vocabulary label."]
    for level, (definition, equivalents) in STRENGTH_DEFINITIONS.items():
        yield 0, "gettext", definition, [f"The definition of strength level {level.value}."]
        yield 0, "gettext", equivalents, [f"What level {level.value} corresponds to elsewhere."]


def extract_navigation(
    fileobj: Any, keywords: Any, comment_tags: Any, options: Any
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Babel extractor for ``mkdocs.yml``: the navigation's titles and the site's name."""
    import yaml

    config = yaml.load(fileobj, Loader=config_loader())
    yield 0, "gettext", config["site_name"], ["The site's name."]
    for title in navigation_titles(config.get("nav") or []):
        yield 0, "gettext", title, ["A title in the site's navigation."]


def navigation_titles(nav: list[Any]) -> Iterator[str]:
    for item in nav:
        if isinstance(item, dict):
            for title, value in item.items():
                yield title
                if isinstance(value, list):
                    yield from navigation_titles(value)


def translated_navigation(nav: list[Any], gettext_: Any) -> list[Any]:
    """``nav`` (as mkdocs.yml writes it) with every title translated."""
    result: list[Any] = []
    for item in nav:
        if isinstance(item, dict):
            result.append(
                {
                    gettext_(title): translated_navigation(value, gettext_)
                    if isinstance(value, list)
                    else value
                    for title, value in item.items()
                }
            )
        else:
            result.append(item)
    return result


def language_folder(folder: Path, language: str) -> Path:
    """``folder``'s namesake for the site in ``language``: ``docs`` → ``docs-cy``, for the
    hand-written pages and the staged ones alike (the English site's are ``folder`` itself)."""
    return folder if language == ENGLISH else folder.with_name(f"{folder.name}-{language}")


@functools.cache
def config_loader() -> Any:
    """YAML's safe loader, reading MkDocs' ``!!python/name`` and ``!ENV`` tags as nothing.
    Made when first needed: ``kb --help`` lists ``kb brief``, whose ``--lang`` choices come
    from here, and should not pay for PyYAML."""
    import yaml

    class ConfigLoader(yaml.SafeLoader):
        pass

    ConfigLoader.add_multi_constructor("", lambda loader, suffix, node: None)
    return ConfigLoader


def in_language(document: Document, language: str) -> Document:
    """``document`` (``kb.store.export``) with each statement's headline (its level, and the
    sentences the code composes about it) said in ``language``: the levels are computed again,
    by the same rules, with that language's words. Record text is left as it is."""
    from kb.records.levels import headline, overall_level

    if language == ENGLISH:
        return document
    words = translations(language)
    items: dict[str, list[EvidenceEntry]] = {}
    for link in document["evidence"]:
        items.setdefault(link["recommendation"], []).append(link)
    recommendations: list[RecommendationEntry] = []
    for rec in document["recommendations"]:
        judged = rec["evidence_judgement"]
        level, reason = overall_level(items.get(rec["id"], []), words)
        said = headline(
            rec["kind"],
            level,
            reason,
            judged["level"] if judged else None,
            judged["basis"] if judged else None,
            words,
        )
        recommendations.append(rec | {"headline": said.as_dict()})
    return document | {"recommendations": recommendations}
