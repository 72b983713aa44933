"""`kb diff` and `kb release`: what changed between two versions of the knowledge base, and
what the next release is. Each calls one function of kb.history.revisions, kb.history.diff or
kb.history.release."""

import sys

import click

from kb.cli import json_output, knowledge_base_options, paths_from, print_problems
from kb.errors import RevisionInvalid
from kb.history.diff import compare
from kb.history.diff_report import markdown_report, text_report

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
    from kb.history.revisions import read_version

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


@click.command()
@knowledge_base_options
@click.option(
    "--bump",
    is_flag=True,
    help="Suggest the next version from `kb diff` against the last release's tag.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def release(root: str | None, database: str | None, bump: bool, as_json: bool) -> None:
    """Report the knowledge base's content release (kb-release.yaml), or suggest the next.

    Versions are semantic, for the content: a changed record format is a major release, a
    record added, removed or renamed (a new study or evidence link) a minor one, a corrected
    field (a rating, a typo) a patch. Each release is tagged v + its version.

    Example: kb release --bump
    """
    from kb.history.release import BUMP_RULE, current_release, suggest_next

    paths = paths_from(root, database)
    if not bump:
        latest = current_release(paths.root)
        if as_json:
            json_output(latest.as_dict() if latest else None)
        elif latest is None:
            click.echo("no release yet (kb-release.yaml lists none)")
        else:
            click.echo(f"{latest.version} released {latest.date.isoformat()}, tag {latest.tag}")
        return
    suggestion = suggest_next(paths)
    if as_json:
        json_output(suggestion.as_dict())
        return
    last = suggestion.last
    if last is None:
        click.echo(f"no release yet; the first will be {suggestion.next}")
        return
    click.echo(f"last release: {last.version} of {last.date.isoformat()}, tag {last.tag}")
    click.echo(f"since then: {'; '.join(suggestion.bump.reasons)}")
    if suggestion.bump.part is None:
        click.echo("nothing to release")
    else:
        rule = BUMP_RULE[suggestion.bump.part]
        click.echo(f"next release: {suggestion.next} ({suggestion.bump.part}: {rule})")
