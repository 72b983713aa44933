"""The `kb` command: a thin layer that parses options, calls one library function, prints.

Exit codes: 0 success, 1 invalid input (with a message naming file, line, record and field),
2 usage error (an option, or a `KB_*` setting, with a value of the wrong kind).
"""

import difflib
import functools
import importlib
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from kb import pipeline
from kb.describe import describe_record
from kb.errors import KnowledgeBaseError, Problem, RecordsInvalid, SettingInvalid
from kb.export import export_document
from kb.settings import SETTINGS, check_environment
from kb.stats import knowledge_base_stats

_HELP = {
    setting.name: f"{setting.help} [env: {setting.environment_variable}]" for setting in SETTINGS
}


def print_problems(problems: list[Problem]) -> None:
    """Print problems one per line, then a count, the way `kb check` does."""
    for problem in problems:
        click.echo(str(problem))


def fails_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn input errors into a clear message and exit code 1 (2 for a setting of the wrong
    kind, a usage error), never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except SettingInvalid as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(2)
        except RecordsInvalid as error:
            print_problems(error.problems)
            click.echo(
                f"error: {error}; nothing was written. Fix the records and run again.", err=True
            )
            sys.exit(1)
        except KnowledgeBaseError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper


def knowledge_base_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Options every command shares: which knowledge base, and where its database lives."""
    command = click.option("--database", metavar="PATH", help=_HELP["database"])(command)
    command = click.option("--root", metavar="PATH", help=_HELP["root"])(command)
    return fails_cleanly(command)


def paths_from(root: str | None, database: str | None) -> pipeline.Paths:
    return pipeline.Paths.for_root(root, database=database)


def json_output(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


class LazyGroup(click.Group):
    """A command group that imports a subcommand's module only when that command is run (or
    help lists it), so `kb add` does not pay for networkx and Whoosh."""

    def __init__(self, *args: Any, lazy: dict[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy  # command name → "module:attribute"

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command: click.Command = getattr(importlib.import_module(module), attribute)
            return command
        return super().get_command(ctx, cmd_name)

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        """The command named first in ``args``; for a name no command has, a usage error
        suggesting the nearest one (click's own suggestion knows only the loaded commands)."""
        try:
            return super().resolve_command(ctx, args)
        except click.exceptions.NoSuchCommand as error:
            name = error.command_name
            meant = _SYNONYMS.get(name.lower()) or next(
                iter(difflib.get_close_matches(name, self.list_commands(ctx), n=1)), None
            )
            if meant is None:
                raise
            raise click.UsageError(
                f"No such command {name!r}. Did you mean {meant!r}?", ctx
            ) from None


# Words people type for a command whose name is not spelt like them.
_SYNONYMS = {
    "validate": "check",
    "find": "search",
    "change": "edit",
    "set": "edit",
    "remove": "rm",
    "delete": "rm",
    "rename": "mv",
    "move": "mv",
}


@click.group(
    cls=LazyGroup,
    lazy={
        "add": "kb.cli.reviewer:add",
        "brief": "kb.cli.brief:brief",
        "diff": "kb.cli.releases:diff",
        "edit": "kb.cli.change:edit",
        "fmt": "kb.cli.reviewer:fmt",
        "graph": "kb.cli.graph:graph",
        "import": "kb.cli.reviewer:import_references",
        "mv": "kb.cli.change:mv",
        "release": "kb.cli.releases:release",
        "rm": "kb.cli.change:rm",
        "search": "kb.cli.search:search",
        "synth": "kb.cli.synth:synth",
    },
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(package_name="kb")
@fails_cleanly
def main() -> None:
    """Keep an evidence-synthesis knowledge base: recommendations, studies and their evidence.

    Records are YAML files under recommendations/ and evidence/; every command reads the
    knowledge base named by --root, else the one the current folder is in (this folder or
    the nearest one above it that holds them).
    """
    check_environment()  # a mistyped KB_* setting fails every command, used by it or not


@main.command()
@knowledge_base_options
def check(root: str | None, database: str | None) -> None:
    """Validate every record file and report all problems at once.

    Each problem is printed as PATH:LINE: RECORD-ID: FIELD: MESSAGE. Exit code 1 when any
    problem is an error; warnings alone exit 0.

    Example: kb check --root path/to/knowledge-base
    """
    knowledge_base, problems = pipeline.check(paths_from(root, database))
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


@main.command("build-db")
@knowledge_base_options
def build_db(root: str | None, database: str | None) -> None:
    """Validate the records and write the SQLite store (default build/kb.sqlite).

    The database is built in a temporary file, checked, then moved into place, so a failed
    build leaves the previous database untouched.

    Example: kb build-db --database /tmp/kb.sqlite
    """
    paths = paths_from(root, database)
    counts, warnings = pipeline.build_db(paths)
    print_problems(warnings)
    rows = ", ".join(f"{count} {table}" for table, count in counts.items() if count)
    click.echo(f"wrote {paths.database}: {rows}")


@main.command()
@knowledge_base_options
@click.option("--json", "as_json", is_flag=True, help="Print the counts as JSON.")
def stats(root: str | None, database: str | None, as_json: bool) -> None:
    """Count records by type and strength level, and check each recommendation list.

    Example: kb stats --json
    """
    figures = knowledge_base_stats(pipeline.current_store(paths_from(root, database)))
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


@main.command("extract-messages")
@fails_cleanly
def extract_messages_command() -> None:
    """Extract the interface's messages into kb/locale/messages.pot and merge them into each
    language's catalogue, for a translator to edit (Poedit, Weblate).

    New messages arrive untranslated, changed ones marked fuzzy. Example: kb extract-messages
    """
    from kb.localization import extract_messages

    state = extract_messages()
    click.echo(
        f"{state.messages} messages; {state.language}: {state.translated} translated, "
        f"{state.drafts} of them drafts awaiting review, {len(state.missing)} missing"
    )


@main.command()
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
    from kb.record_citations import RecordCitations
    from kb.site_config import site_info

    paths = paths_from(root, database)
    document = export_document(pipeline.current_store(paths))
    described = describe_record(document, record_id)
    if "renamed" in described:  # a former ID (kb.aliases)
        click.echo(f"note: {described['renamed']['note']}", err=True)
    citations = RecordCitations(document, site_info(paths.root))
    shown = described["record"]["id"]  # the record's ID now, where record_id is a former one
    if as_json:
        json_output({**described, **citations.cite(described["type"], shown)})
        return
    from kb.record_text import record_text

    related = None
    if described["type"] == "recommendation":
        from kb.graph import graph_of, related_recommendations

        related = related_recommendations(graph_of(document), shown)
    click.echo(record_text(document, described, citations, related), nl=False)


@main.command()
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
    from kb import citations
    from kb.downloads import csv_text

    document = export_document(pipeline.current_store(paths_from(root, database)))
    if output_format == "json":
        json_output(document)
    elif output_format == "csv":
        click.echo(csv_text(document["studies"]), nl=False)
    else:
        references = citations.all_references(document)
        click.echo(citations.WRITERS[output_format](references), nl=False)
