"""Which statements a brief covers, checked: every mistake named, nothing guessed.

A selection is the union, in this order and without repeats, of: the IDs of a saved selection
file, the IDs given on the command line, the statements of a theme (and its sub-themes, in the
report's order), and the recommendations a search found (best first); then, with a minimum
strength, only the statements whose headline level reaches it (statements that are not rated
never do). A minimum strength alone selects every statement that reaches it.

A selection file is plain UTF-8 text: record IDs separated by spaces, commas or line breaks;
``#`` starts a comment. An address of the site's brief page (``…/brief/?ids=a,b``) is read as
its IDs, so a brief shared from the site can be made again with ``kb brief --selection``.
"""

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from kb.brief.records import Records
from kb.errors import BriefSelectionInvalid
from kb.records.document import DocumentKey, entries
from kb.records.levels import rank
from kb.records.types import ID_PATTERN

# The largest selection file read: far more IDs than any knowledge base holds.
MAX_SELECTION_BYTES = 1024 * 1024
_SEPARATORS = re.compile(r"[\s,]+")
_RECORD_TYPES: tuple[tuple[DocumentKey, str], ...] = (
    ("sources", "source report"),
    ("themes", "theme"),
    ("studies", "study"),
    ("evidence", "evidence link"),
    ("examples", "practice example"),
    ("figures", "key figure"),
)


@dataclass(frozen=True)
class Named:
    """A record ID as the user gave it, and where: a file and line, or the command line."""

    id: str
    where: str = ""  # "selection.txt:3"; empty for the command line

    def __str__(self) -> str:
        return f"{self.where}: {self.id}" if self.where else self.id


def _ids_of_line(text: str) -> list[str]:
    """The IDs on one line of a selection file: words, or a brief page's ``ids``."""
    text = text.strip()
    if text.startswith(("http://", "https://")):
        query = parse_qs(urlsplit(text).query)
        return [part for value in query.get("ids", []) for part in value.split(",") if part]
    return [part for part in _SEPARATORS.split(text.split("#", 1)[0]) if part]


def read_selection_file(path: Path) -> list[Named]:
    """The IDs a selection file lists, each with its file and line."""
    try:
        size = path.stat().st_size
        if size > MAX_SELECTION_BYTES:
            raise BriefSelectionInvalid(
                f"{path}: a selection file of {size:,} bytes is too large (at most "
                f"{MAX_SELECTION_BYTES:,}); list one record ID per line"
            )
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BriefSelectionInvalid(
            f"{path}: not UTF-8 text; a selection file lists record IDs, one per line"
        ) from None
    except IsADirectoryError:
        raise BriefSelectionInvalid(f"{path}: is a folder, not a selection file") from None
    except OSError as error:
        raise BriefSelectionInvalid(f"{path}: cannot be read ({error.strerror or error})") from None
    return [
        Named(record_id, f"{path}:{number}")
        for number, line in enumerate(text.splitlines(), 1)
        for record_id in _ids_of_line(line)
    ]


def _nearest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _problem(records: Records, named: Named) -> str | None:
    """What is wrong with one ID of a selection, or None when it names a statement."""
    if named.id in records.recommendations:
        return None
    prefix = f"{named.where}: " if named.where else ""
    shown = named.id if len(named.id) <= 80 else named.id[:77] + "..."
    if not ID_PATTERN.fullmatch(named.id):
        return f"{prefix}{shown!r} is not a record ID (lower-case letters, digits and hyphens)"
    for key, kind in _RECORD_TYPES:
        if any(row["id"] == named.id for row in entries(records.document, key)):
            return (
                f"{prefix}'{named.id}' is a {kind}, not a statement: a brief covers "
                "recommendations, key messages, recurring recommendations and government actions"
            )
    return (
        f"{prefix}no statement has ID '{named.id}'"
        f"{_nearest(named.id, sorted(records.recommendations))}"
    )


def _check(records: Records, names: list[Named]) -> None:
    problems = [problem for named in names if (problem := _problem(records, named))]
    if len(problems) == 1:
        raise BriefSelectionInvalid(problems[0])
    if problems:
        listed = "\n  ".join(problems)
        raise BriefSelectionInvalid(f"{len(problems)} IDs name no statement:\n  {listed}")


def theme_statements(records: Records, theme: str) -> list[str]:
    """The statements of a theme and its sub-themes; an unknown theme is an error."""
    if theme not in records.themes:
        raise BriefSelectionInvalid(
            f"no theme has ID '{theme}' (--theme {theme}){_nearest(theme, sorted(records.themes))}"
        )
    return records.statements_under(theme)


def select_statements(
    records: Records,
    names: list[Named],
    theme: str | None = None,
    found: list[str] | None = None,
    min_strength: str | None = None,
) -> list[str]:
    """The statement IDs a brief covers, checked (``BriefSelectionInvalid`` names every ID
    that is no statement, and says so when nothing is left). ``names`` come from a file and
    the command line, ``found`` from a search."""
    _check(records, names)
    chosen = [named.id for named in names]
    if theme:
        chosen += theme_statements(records, theme)
    chosen += found or []
    asked = bool(names or theme or found is not None)
    if not asked and min_strength:
        chosen = sorted(records.recommendations, key=records.report_order)
    chosen = list(dict.fromkeys(chosen))
    before = len(chosen) if asked else 0
    if min_strength:
        floor = rank(min_strength)
        chosen = [
            rec_id
            for rec_id in chosen
            if (level := records.recommendations[rec_id]["headline"]["level"]) is not None
            and rank(level) >= floor
        ]
    if not chosen:
        raise BriefSelectionInvalid(
            f"the selection holds no statement: {_nothing(before, theme, found, min_strength)}"
        )
    return chosen


def _nothing(before: int, theme: str | None, found: list[str] | None, floor: str | None) -> str:
    """Why a selection came out empty."""
    if floor and before:
        selected = f"{before} statement{'s' if before != 1 else ''} selected"
        return f"none of the {selected} has a headline level of {floor} or above"
    if floor and theme is None and found is None:
        return f"no statement has a headline level of {floor} or above"
    reasons = []
    if theme:
        reasons.append(f"theme '{theme}' holds no statement")
    if found is not None:
        reasons.append("the search found no recommendation")
    return "; ".join(reasons) or "no statement was chosen"
