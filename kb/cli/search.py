"""`kb search`: rank recommendations, evidence, studies, examples and figures for a query."""

import functools
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from kb.cli import json_output, knowledge_base_options, paths_from
from kb.paths import Paths, store_is_current
from kb.records.vocabularies import Direction, Strength
from kb.search import TYPES

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from kb.references.record_citations import CitedRecord
    from kb.search.query import SearchResult, SearchResults

_KIND_NAMES = {
    "recommendation": "recommendation",
    "key-message": "key message",
    "recurring": "recurring recommendation",
    "government-action": "government action",
}
_TYPE_NAMES = {"study": "study", "evidence": "evidence", "example": "example", "figure": "figure"}


def _kind(result: "SearchResult") -> str:
    if result.type == "recommendation":
        return _KIND_NAMES.get(result.kind, result.kind)
    return _TYPE_NAMES[result.type]


def _bold(text: str, styled: bool) -> str:
    """Show **marked** words in bold on a terminal, and keep the markers elsewhere."""
    if not styled:
        return text
    return re.sub(r"\*\*(.+?)\*\*", lambda match: click.style(match.group(1), bold=True), text)


def _passage(result: "SearchResult", width: int = 220) -> str:
    if result.highlights:
        return " ".join(result.highlights).replace("… …", "…")
    text = " ".join(result.text.split())
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


def _no_recommendation(found: "SearchResults") -> list[str]:
    """The lines saying that no recommendation is among the results, and the nearest one."""
    nearest = found.nearest_recommendation
    if not found.no_recommendation or not (found.results or nearest):
        return []  # recommendations were not asked for; or "no results" says it all
    if nearest is None:
        return ["no recommendation matches, and none of the results bears on one"]
    if nearest.matches:
        first = "no recommendation among the results shown; the best-ranked one:"
        where = f"{nearest.id} · {nearest.url}"
    else:
        first = "no recommendation matches; the nearest, which the best results bear on:"
        via = ", ".join(nearest.via[:3]) + (", …" if len(nearest.via) > 3 else "")
        where = f"{nearest.id} · {nearest.url} · via {via}"
    return [first, f"   {nearest.title} {nearest.strength_badge}", f"   {where}"]


def _as_json(
    found: "SearchResults", cite: Callable[[str, str], "CitedRecord"]
) -> dict[str, object]:
    """The results as one JSON object: the query, its totals and notes, and the results,
    each with its quote, citation, section, page and permalink (``cite``)."""
    nearest = found.nearest_recommendation
    return {
        "query": found.query,
        "total": found.total,
        "total_estimated": found.total_estimated,
        "did_you_mean": found.did_you_mean,
        "also_searched": found.also_searched,
        "no_recommendation": found.no_recommendation,
        "nearest_recommendation": nearest.as_dict() if nearest else None,
        "results": [_cited(result.as_dict(), cite) for result in found.results],
    }


def _cited(
    result: dict[str, object], cite: Callable[[str, str], "CitedRecord"]
) -> dict[str, object]:
    """A result with how to quote and cite it (``kb.references.record_citations``); its ``url``
    stays the path of its page on the site."""
    cited = cite(str(result["type"]), str(result["id"]))
    return {
        **result,
        "quote": cited["quote"],
        "citation": cited["citation"],
        "section": cited["section"],
        "page": cited["page"],
        "permalink": cited["permalink"],
    }


class _Store:
    """The store, opened (and rebuilt first if the records changed) when first called for.

    A search whose store and index are both current never calls for it, and so never loads
    SQLModel and SQLAlchemy: only ``--theme``, an ID filter in the query, ``--json`` and an
    index to refresh need it.
    """

    def __init__(self, paths: Paths) -> None:
        self.paths = paths
        self.engine: Engine | None = None

    def __call__(self) -> "Engine":
        if self.engine is None:
            from kb.store import current

            self.engine = current.current_store(self.paths)
        return self.engine


def _record_ids(engine: _Store, kind: str) -> list[str]:
    """Every stored ID of one kind of record, for a query that filters on an ID."""
    from kb.store.database import record_ids

    return record_ids(engine(), kind)


@click.command()
@knowledge_base_options
@click.argument("words", metavar="QUERY...", nargs=-1, required=True)
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice(TYPES),
    help="Only records of this type (repeat for several).",
)
@click.option("--theme", metavar="THEME", help="Only records in this theme or its sub-themes.")
@click.option(
    "--min-strength",
    type=click.Choice([level.value for level in Strength]),
    help="Only records whose evidence is at least this strong.",
)
@click.option(
    "--direction",
    type=click.Choice([direction.value for direction in Direction]),
    help="Only evidence (and studies) with this direction of effect.",
)
@click.option("--year-from", type=int, metavar="YEAR", help="Only records from this year on.")
@click.option(
    "--limit",
    type=click.IntRange(1, 100),
    default=10,
    show_default=True,
    help="How many results to show.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print the results as a JSON object (docs/search.md)."
)
def search(
    root: str | None,
    database: str | None,
    words: tuple[str, ...],
    types: tuple[str, ...],
    theme: str | None,
    min_strength: str | None,
    direction: str | None,
    year_from: int | None,
    limit: int,
    as_json: bool,
) -> None:
    """Search recommendations, evidence, studies, practice examples and key figures.

    Words are matched in any form (plurals, -ise/-ize, anti-racist/antiracist), domain
    synonyms are added (BAME, PPE, MHA...), and misspelt words are corrected. When no
    recommendation is among the results, the nearest one is named. Use "quotes"
    for a phrase, AND / OR / NOT, and fields such as theme:hsc-data or strength:S3. The
    search index is built or refreshed first when the records changed. See docs/search.md.

    Example: kb search blind recruitment --type recommendation
    """
    # Imported here, with Whoosh, so that `kb --help` and `kb search --help` need neither.
    from kb.search import query as library
    from kb.search.stamp import index_is_current

    paths = paths_from(root, database)
    engine = _Store(paths)
    if not store_is_current(paths):
        engine()  # rebuilt now, before anything else, as every command that reads it does
    if theme:  # a theme's former ID leads to the theme it became (kb.store.aliases)
        from kb.store.aliases import aliases_in_store, resolve

        theme, note = resolve(aliases_in_store(engine()), theme.strip().lower())
        if note:
            click.echo(f"note: {note}", err=True)
    if not index_is_current(paths.index, paths.database):
        from kb.search.index import update_index

        update_index(engine(), paths.index)
    found = library.search(
        paths.index,
        " ".join(words),
        types=types or None,
        theme=theme,
        min_strength=min_strength,
        direction=direction,
        year_from=year_from,
        limit=limit,
        ids=functools.partial(_record_ids, engine),
    )
    if as_json:
        from kb.references.record_citations import RecordCitations
        from kb.site_config import site_info
        from kb.store.export import export_document

        citations = RecordCitations(export_document(engine()), site_info(paths.root))
        json_output(_as_json(found, citations.cite))
        return
    styled = sys.stdout.isatty()
    shown = len(found.results)
    if not shown:
        click.echo(f'no results for "{found.query}"')
    elif shown < found.total:
        about = "about " if found.total_estimated else ""
        click.echo(f'{shown} of {about}{found.total} results for "{found.query}"')
    else:
        click.echo(f'{found.total} result{"s" if found.total != 1 else ""} for "{found.query}"')
    if found.did_you_mean:
        click.echo(f'did you mean: "{found.did_you_mean}" (included in the results)')
    if found.also_searched:
        click.echo(f"also searched: {', '.join(found.also_searched)}")
    for line in _no_recommendation(found):
        click.echo(line)
    for number, result in enumerate(found.results, 1):
        badge = f" {result.strength_badge}" if result.strength_badge else ""
        click.echo(f"\n{number}. {_kind(result)}: {result.title}{badge}")
        if result.headline:
            click.echo(f"   {result.headline}")
        click.echo(f"   {_bold(_passage(result), styled)}")
        click.echo(f"   {result.id} · {result.url}")
