"""`kb check`, `kb build-db`, `kb stats`, `kb show` and `kb export`: validate the records, write
the store, count, show one record, and write the whole knowledge base out."""

import sys

import click

from kb.cli import json_output, knowledge_base_options, paths_from, print_problems


@click.command()
@knowledge_base_options
def check(root: str | None, database: str | None) -> None:
    """Validate every record file and report all problems at once.

    Each problem is printed as PATH:LINE: RECORD-ID: FIELD: MESSAGE. Exit code 1 when any
    problem is an error; warnings alone exit 0.

    Example: kb check --root path/to/knowledge-base
    """
    from kb.records import read

    knowledge_base, problems = read.check(paths_from(root, database))
    print_problems(problems)
    errors = sum(problem.severity == "error" for problem in problems)
    warnings = len(problems) - errors
    counts = ", ".join(
        f"{len(knowledge_base.by_kind(kind))} {label}"
        for kind, label in (
            ("source", "sources"),
            ("theme", "themes"),
            ("recommendation", "recommendations"),
            ("study", "studies"),
            ("example", "examples"),
            ("figure", "figures"),
        )
    )
    links = sum(1 for _ in knowledge_base.findings())
    summary = f"{counts}, {links} evidence links; {errors} errors, {warnings} warnings"
    if errors:
        click.echo(f"invalid: {summary}")
        sys.exit(1)
    click.echo(f"ok: {summary}")


@click.command("build-db")
@knowledge_base_options
def build_db(root: str | None, database: str | None) -> None:
    """Validate the records and write the SQLite store (default build/kb.sqlite).

    The database is built in a temporary file, checked, then moved into place, so a failed
    build leaves the previous database untouched.

    Example: kb build-db --database /tmp/kb.sqlite
    """
    from kb.store import current

    paths = paths_from(root, database)
    counts, warnings = current.build_db(paths)
    print_problems(warnings)
    rows = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
    click.echo(f"wrote {paths.database}: {rows}")


@click.command()
@knowledge_base_options
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def stats(root: str | None, database: str | None, as_json: bool) -> None:
    """Count records by type and strength level, and check each recommendation list.

    Example: kb stats --json
    """
    from kb.store import current
    from kb.store.stats import knowledge_base_stats

    figures = knowledge_base_stats(current.current_store(paths_from(root, database)))
    figures["translations"] = translation_stats()
    if as_json:
        json_output(figures)
        return
    for heading, key in (
        ("Records", "counts"),
        ("Statements by kind", "statements_by_kind"),
        ("Evidence links by strength", "evidence_by_strength"),
        ("Evidence links by basis", "evidence_by_basis"),
        ("Recommendations by headline level", "recommendations_by_headline"),
        ("Recommendations by the source's judgement", "recommendations_by_judgement"),
        ("Studies by type", "studies_by_type"),
    ):
        click.echo(heading)
        for name, count in figures[key].items():
            click.echo(f"  {name or 'not judged':<24}{count:>6}")
        if key == "evidence_by_basis":
            click.echo(f"  {'quotes not checked':<24}{figures['unchecked_quotes']:>6}")
    click.echo(f"  {'not in a reference list':<24}{figures['studies_not_in_reference_list']:>6}")
    click.echo(
        "Recommendation lists  (recommendations, positions complete, judged, "
        "with evidence or an S0 gap)"
    )
    for row in figures["recommendation_lists"]:
        complete = "yes" if row["positions_complete"] else "NO"
        click.echo(
            f"  {row['theme']:<28}{row['recommendations']:>4}  {complete:<4}"
            f"{row['judged']:>4}{row['with_evidence_or_gap']:>4}  {row['title']}"
        )
    click.echo("Interface translations  (messages, translated, drafts awaiting review)")
    for language, row in figures["translations"].items():
        click.echo(f"  {language:<24}{row['messages']:>6}{row['translated']:>6}{row['drafts']:>6}")


def translation_stats() -> dict[str, dict[str, int]]:
    """How complete each language's interface catalogue is, and how many of its translations
    are drafts no speaker of the language has reviewed (kb.localization)."""
    from kb.localization import LANGUAGES, catalogue_state

    states = {language: catalogue_state(language) for language in LANGUAGES[1:]}
    return {
        language: {
            "messages": state.messages,
            "translated": state.translated,
            "drafts": state.drafts,
            "missing": len(state.missing),
        }
        for language, state in states.items()
    }


@click.command()
@knowledge_base_options
@click.argument("record_id", metavar="ID")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the whole record, and how to cite it, as JSON."
)
def show(root: str | None, database: str | None, record_id: str, as_json: bool) -> None:
    """Show one record: a statement with its strength, evidence, examples and related ones.

    A recommendation (or key message...) is shown with its words, the strength of its evidence
    and what that means, its evidence links grouped by relation with their levels, its
    practice examples, related statements and its citation; any other record with its main
    fields and the records that refer to it. --json prints the whole record, the records
    that refer to it, and its quote, citation, section, page, path and permalink.

    Example: kb show hsc-recruitment-1
    """
    # Light imports only: with a current store, showing a record loads neither SQLModel nor
    # networkx (docs/performance.md, "The command line").
    from kb.paths import store_is_current
    from kb.references.record_citations import RecordCitations
    from kb.site_config import site_info
    from kb.store.describe import describe_record
    from kb.store.export import export_document

    paths = paths_from(root, database)
    if not store_is_current(paths):
        from kb.store import current

        current.build_db(paths)  # rebuilt first, as every command that reads it does
    document = export_document(paths.database)
    described = describe_record(document, record_id)
    if "renamed" in described:  # a former ID (kb.store.aliases)
        click.echo(f"note: {described['renamed']['note']}", err=True)
    citations = RecordCitations(document, site_info(paths.root))
    shown = described["record"]["id"]  # the record's ID now, where record_id is a former one
    if as_json:
        json_output({**described, **citations.cite(described["type"], shown)})
        return
    from kb.brief.record_text import record_text

    related = None
    if described["type"] == "recommendation":
        from kb.graph.related import related_in_document

        related = related_in_document(document, shown)
    click.echo(record_text(document, described, citations, related), nl=False)


@click.command()
@knowledge_base_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["json", "bibtex", "ris", "csl-json", "csv"]),
    default="json",
    show_default=True,
    help="Output format.",
)
def export(root: str | None, database: str | None, output_format: str) -> None:
    """Write the whole knowledge base, or its references, to standard output.

    json: one document with the keys sources, themes, recommendations, studies, evidence,
    examples and figures. bibtex, ris, csl-json: every source and study as a reference, for
    citation managers; `kb import` of such a file creates nothing new. csv: the studies, one
    row each, lists joined with "; ".

    Example: kb export --format ris > references.ris
    """
    from kb.references import citations
    from kb.render.downloads import csv_text
    from kb.store import current
    from kb.store.export import export_document

    document = export_document(current.current_store(paths_from(root, database)))
    if output_format == "json":
        json_output(document)
    elif output_format == "csv":
        click.echo(csv_text(document["studies"]), nl=False)
    else:
        references = citations.all_references(document)
        click.echo(citations.WRITERS[output_format](references), nl=False)
