"""`kb diff`: what changed between two versions of the knowledge base; it calls
kb.revisions, kb.diff and kb.diff_report."""

import sys

import click

from kb.cli import json_output, knowledge_base_options, paths_from, print_problems
from kb.diff import compare
from kb.diff_report import markdown_report, text_report
from kb.errors import RevisionInvalid
from kb.revisions import read_version

SHOWN_PROBLEMS = 10


def _revision_invalid(error: RevisionInvalid) -> None:
    """Say which revision does not validate, and its first problems."""
    click.echo(f"{error.revision} does not validate:", err=True)
    print_problems(error.problems[:SHOWN_PROBLEMS])
    if len(error.problems) > SHOWN_PROBLEMS:
        click.echo(f"… and {len(error.problems) - SHOWN_PROBLEMS} more")
    click.echo(f"error: {error}", err=True)
    sys.exit(1)


@click.command()
@knowledge_base_options
@click.argument("old")
@click.argument("new", required=False)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "markdown", "json"]),
    default="text",
    show_default=True,
    help="text for people, markdown for a pull request's summary, json for scripts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the changes as JSON (--format json).")
def diff(
    root: str | None,
    database: str | None,
    old: str,
    new: str | None,
    output_format: str,
    as_json: bool,
) -> None:
    """Show what changed from OLD to NEW: records added, removed, renamed and changed, field by
    field, and every headline strength level that moved, with the links that moved it.

    OLD and NEW are each a git revision of the repository (a branch, tag or commit) or a file
    written by `kb export`; NEW defaults to the working tree. A revision's records are read
    into a temporary folder and validated there; the working tree is not touched.

    Example: kb diff main --format markdown
    """
    if as_json and output_format not in ("text", "json"):
        raise click.UsageError("--json and --format markdown cannot be given together")
    paths = paths_from(root, database)
    try:
        before = read_version(paths, old)
        after = read_version(paths, new)
    except RevisionInvalid as error:
        _revision_invalid(error)
    changes = compare(before.document, after.document)
    if as_json or output_format == "json":
        json_output({"old": before.as_dict(), "new": after.as_dict(), **changes.as_dict()})
    elif output_format == "markdown":
        click.echo(markdown_report(changes, before.description, after.description), nl=False)
    else:
        click.echo(text_report(changes, before.description, after.description), nl=False)
