"""`kb brief`: an evidence brief for a selection of statements, as text, Markdown, HTML or
Word. Parses the selection, calls ``kb.brief.brief_for`` and writes what it returns."""

import datetime
import shutil
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from kb.cli import knowledge_base_options, paths_from
from kb.errors import OutputNotWritten
from kb.localization import ENGLISH, LANGUAGE_NAMES, LANGUAGES
from kb.paths import Paths
from kb.records.vocabularies import Strength

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# A file name's ending → the format it asks for, when --format is not given.
_SUFFIXES = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".docx": "docx"}
_FORMAT_NAMES = {"markdown": "md"}
# Plain text on a terminal is wrapped to its width, but never wider than this.
WIDEST_TEXT = 100


def today() -> datetime.date:
    """The day a brief is made on (tests put another in its place)."""
    return datetime.date.today()


def _search(paths: Paths, engine: "Engine", query: str, limit: int) -> list[str]:
    """The recommendations a search finds for ``query``, best first."""
    import functools

    from kb import search as library
    from kb.store import database as store

    library.refresh_index(engine, paths.index, paths.database)
    found = library.search(
        paths.index,
        query,
        types=("recommendation",),
        limit=limit,
        ids=functools.partial(store.record_ids, engine),
    )
    return [result.id for result in found.results]


def _format(output_format: str | None, output: Path | None) -> str:
    if output_format:
        return _FORMAT_NAMES.get(output_format, output_format)
    if output is not None:
        return _SUFFIXES.get(output.suffix.lower(), "text")
    return "text"


def _write(output: Path, result: str | bytes) -> None:
    from kb.files import write_atomically

    data = result.encode("utf-8") if isinstance(result, str) else result
    try:
        write_atomically(output, lambda temporary: temporary.write_bytes(data))
    except OSError as error:
        raise OutputNotWritten(
            f"cannot write {output}: {error.strerror or error}; nothing was written"
        ) from None


@click.command()
@knowledge_base_options
@click.argument("ids", metavar="[ID]...", nargs=-1)
@click.option("--theme", metavar="THEME", help="Every statement in THEME and its sub-themes.")
@click.option("--query", "-q", metavar="WORDS", help="The recommendations `kb search WORDS` finds.")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="How many recommendations --query takes.",
)
@click.option(
    "--min-strength",
    type=click.Choice([level.value for level in Strength]),
    help="Only statements whose headline level is at least this (alone: all of them).",
)
@click.option(
    "--selection",
    "selection_file",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="A saved selection: record IDs (or a brief page's address), one per line.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "md", "markdown", "html", "docx"]),
    help="text (plain, the default), md, html or docx [default: from --output's ending].",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    type=click.Path(path_type=Path),
    help="Write the brief to FILE instead of standard output.",
)
@click.option("--title", metavar="TEXT", help="The brief's title [default: the theme's].")
@click.option(
    "--lang",
    "language",
    type=click.Choice(LANGUAGES),
    default=ENGLISH,
    show_default=True,
    help="The language the brief is framed in: "
    + ", ".join(f"{code} ({LANGUAGE_NAMES[code]})" for code in LANGUAGES)
    + ". Quotes and record text stay in English.",
)
def brief(
    root: str | None,
    database: str | None,
    ids: tuple[str, ...],
    theme: str | None,
    query: str | None,
    limit: int,
    min_strength: str | None,
    selection_file: Path | None,
    output_format: str | None,
    output: Path | None,
    title: str | None,
    language: str,
) -> None:
    """Write an evidence brief for a selection of statements.

    For each: its statement verbatim, the strength of its evidence in plain words and what
    that means, its strongest evidence (each study's quote, our summary and whose words or
    appraisal it rests on), gaps and uncertainties, practice examples, and a citation of the
    source at its section with a permanent link (when site_url is set in mkdocs.yml). It
    opens with key messages and ends with the references, author-date. Choose the statements
    by ID, --theme, --query, --selection FILE, or --min-strength (which also narrows the
    others). Plain text unless --format or --output's ending says otherwise; a Word document
    needs --output (or a redirect). With --lang cy, its headings, labels, strength wording and
    citation are in Welsh (drafts awaiting review); quotes and record text stay in English,
    marked as English in HTML and Word. See docs/briefs.md.

    Example: kb brief --theme hsc-debiasing-recruitment --format docx -o brief.docx
    """
    from kb.brief import Edition, Named, brief_for, read_selection_file, render_brief
    from kb.history.release import RELEASE_FILE, current_release
    from kb.site_config import site_info
    from kb.store import current
    from kb.store.export import export_document

    if not (ids or theme or query or min_strength or selection_file):
        raise click.UsageError(
            "choose the statements: IDs, --theme, --query, --selection FILE or --min-strength"
        )
    chosen_format = _format(output_format, output)
    if chosen_format == "docx" and output is None and sys.stdout.isatty():
        raise click.UsageError(
            "a Word document is not for a terminal: give --output FILE.docx, or redirect"
        )
    paths = paths_from(root, database)
    names = read_selection_file(selection_file) if selection_file else []
    names += [Named(record_id) for record_id in ids]
    engine = current.current_store(paths)
    found = _search(paths, engine, query, limit) if query else None
    release = current_release(paths.root) if (paths.root / RELEASE_FILE).is_file() else None
    edition = Edition(site_info(paths.root), release, today())
    made = brief_for(
        export_document(engine), edition, names, theme, found, min_strength, title, language
    )
    width = None
    if chosen_format == "text" and output is None and sys.stdout.isatty():
        width = min(shutil.get_terminal_size().columns, WIDEST_TEXT)
    result = render_brief(made, chosen_format, width)
    if output is not None:
        _write(output, result)
        statements = len(made.items)
        click.echo(
            f"wrote {output}: {statements} statement{'s' if statements != 1 else ''}, "
            f"{len(made.references)} references ({chosen_format})"
        )
    elif isinstance(result, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(result)
        sys.stdout.buffer.flush()
    else:
        click.echo(result, nl=False)
