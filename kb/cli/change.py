"""`kb edit`, `kb rm` and `kb mv`: the reviewer's commands that change records already there.

Each parses options, calls one function of kb.edits.edit or kb.edits.rename, and prints the change
file by file (the same lines with --dry-run, which writes nothing), or with --json one object.
"""

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from kb.cli import json_output, knowledge_base_options, paths_from
from kb.cli.reviewer import JSON_OPTION, choice, parse_ratings
from kb.records.vocabularies import (
    CLEARABLE_LINK_FIELDS,
    CLEARABLE_STUDY_FIELDS,
    Basis,
    Direction,
    Downgrade,
    Horizon,
    Relation,
    Strength,
    StudyType,
    Upgrade,
)

if TYPE_CHECKING:
    from kb.edits import edit as editing
    from kb.edits.changes import Changed

DRY_RUN = click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")


def print_changed(changed: "Changed", as_json: bool, unchanged: str) -> None:
    """The change file by file: an action and a path, then each field, old → new; the
    warnings `kb check` would newly give; then what was (or would be) done."""
    from kb.edits.changes import past_tense, shown_value

    if as_json:
        json_output(changed.as_dict())
        return
    plan = changed.plan
    if not plan.files:
        click.echo(f"nothing to change: {unchanged}")
        return
    for change in plan.files:
        click.echo(f"{change.action} {change.path}" + (f" → {change.to}" if change.to else ""))
        for field in change.fields:
            click.echo(f"  {field.field}: {shown_value(field.old)} → {shown_value(field.new)}")
        if change.reformatted:
            click.echo("  and the rest of the file in the canonical style (as `kb fmt` would)")
    for warning in plan.warnings:
        click.echo(str(warning))
    for note in plan.notes:
        click.echo(f"note: {note}; not changed")
    counts = plan.counts()
    if changed.dry_run:
        done = _listed(f"{action} {_files(count)}" for action, count in counts.items())
        click.echo(f"dry run: would {done}; nothing written")
        return
    click.echo(_listed(f"{past_tense(action)} {_files(count)}" for action, count in counts.items()))
    if changed.refreshed:
        click.echo(changed.refreshed)


def _files(count: int) -> str:
    return f"{count} file{'s' if count != 1 else ''}"


FC = TypeVar("FC", bound=Callable[..., Any])  # a command function, as click's decorators take


def _listed(given: Iterable[str]) -> str:
    parts = list(given)
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def _clear_option(fields: Iterable[str]) -> Callable[[FC], FC]:
    fields = list(fields)
    return click.option(
        "--clear",
        "clear",
        multiple=True,
        type=click.Choice(list(fields)),
        metavar="FIELD",
        help=f"Remove an optional field ({', '.join(fields)}); repeat.",
    )


def _recorder_options(command: FC) -> FC:
    command = click.option(
        "--on", "recorded_on", help="When, YYYY-MM-DD [default: today, when it changes]."
    )(command)
    return click.option(
        "--by",
        "recorded_by",
        help="Who makes the judgement [default: git config user.name, when a level changes].",
    )(command)


# --- kb edit ---------------------------------------------------------------------------------


@click.group()
def edit() -> None:
    """Change an evidence link or a study, field by field, without editing YAML.

    Only the fields given change. The result is checked as `kb check` would check it, and
    nothing is written if it would have an error; each file is written atomically, then the
    store and search index are refreshed. --dry-run shows the change and writes nothing.

    Example: kb edit evidence krause-2012--anonymise --strength S3 --dry-run
    """


@edit.command("evidence")
@knowledge_base_options
@click.argument("link_id", metavar="LINK-ID")
@click.option("--basis", type=choice(Basis), help="source or appraisal (see kb add evidence).")
@click.option("--claim", help="Which part of the recommendation it bears on.")
@click.option("--relation", type=choice(Relation), help="How the study bears on it.")
@click.option(
    "--strength",
    type=choice(Strength),
    help="Strength, S0–S5 [appraisal: the level its appraisal gives, recomputed].",
)
@click.option("--direction", type=choice(Direction), help="Direction of the effect.")
@click.option("--horizon", type=choice(Horizon), help="Time horizon of the effect.")
@click.option("--summary", help="One sentence in our own words.")
@click.option("--quote", help="Verbatim passage, checked against its text.")
@click.option(
    "--quote-unchecked/--quote-checked",
    default=None,
    help="Whether the quote's text is held, so that it can be checked.",
)
@click.option("--source", help="Source report ID (basis source).")
@click.option("--section", help="Heading of the quote's section.")
@click.option("--page", type=click.IntRange(min=1), help="Page of the quote.")
@click.option("--above-ceiling", help="Why a source link is above its study type's ceiling.")
@click.option("--note", help="Why this strength, or anything a later reviewer should know.")
@click.option("--design", help="Appraisal: what the study did.")
@click.option("--population", help="Appraisal: who was studied.")
@click.option("--setting", "appraisal_setting", help="Appraisal: where, in what service.")
@click.option("--sample-size", help="Appraisal: the sample size, as the study states it.")
@click.option("--rationale", help="Appraisal: why the evidence bears on it as rated.")
@click.option(
    "--downgrade",
    "downgrades",
    nargs=3,
    multiple=True,
    metavar="DOMAIN LEVELS REASON",
    help="Appraisal: set a GRADE domain's rating down (LEVELS 1 or 2; 0 removes it; "
    + ", ".join(domain.value for domain in Downgrade)
    + "); repeat.",
)
@click.option(
    "--upgrade",
    "upgrades",
    nargs=3,
    multiple=True,
    metavar="DOMAIN LEVELS REASON",
    help="Appraisal: set a rating up (0 removes it; "
    + ", ".join(domain.value for domain in Upgrade)
    + "); repeat.",
)
@_clear_option(CLEARABLE_LINK_FIELDS)
@_recorder_options
@DRY_RUN
@JSON_OPTION
def edit_evidence(
    root: str | None,
    database: str | None,
    link_id: str,
    clear: tuple[str, ...],
    recorded_by: str | None,
    recorded_on: str | None,
    dry_run: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Change an evidence link's fields.

    An appraised link's level is the one its appraisal gives: changing a domain
    (--downgrade indirectness 0 - removes one) recomputes it, and a --strength the appraisal
    does not give is refused. The link keeps who recorded it and when, unless its level or
    basis changes: then it is recorded as your judgement (git config user.name), today.
    --by names who made the judgement (today, unless --on).

    Example: kb edit evidence behaghel-2015--hsc-recruitment-1 --downgrade imprecision 1
    "One trial in one country." --dry-run
    """
    from kb.edits import edit as editing

    edit = _evidence_edit(options, list(clear), editing.Recorder(recorded_by, recorded_on))
    changes = edit.fields or edit.location or edit.touches_appraisal() or edit.clear
    if not (changes or recorded_by or recorded_on):
        raise click.UsageError("give a field to change, e.g. --strength S3 (see --help)")
    changed = editing.edit_evidence(paths_from(root, database), link_id, edit, dry_run)
    print_changed(changed, as_json, f"{link_id} already says so")


def _evidence_edit(
    options: dict[str, Any], clear: list[str], recorder: "editing.Recorder"
) -> "editing.EvidenceEdit":
    from kb.edits import edit as editing

    names = (
        *("basis", "claim", "relation", "strength", "direction", "horizon", "summary"),
        *("quote", "quote_unchecked", "source", "above_ceiling", "note"),
    )
    fields = {name: options[name] for name in names if options[name] is not None}
    location = {name: options[name] for name in ("section", "page") if options[name] is not None}
    appraisal = {
        name: options["appraisal_setting" if name == "setting" else name]
        for name in ("design", "population", "setting", "sample_size", "rationale")
        if options["appraisal_setting" if name == "setting" else name] is not None
    }
    return editing.EvidenceEdit(
        fields=fields,
        location=location,
        appraisal=appraisal,
        downgrades=parse_ratings(options["downgrades"], Downgrade, "--downgrade", True),
        upgrades=parse_ratings(options["upgrades"], Upgrade, "--upgrade", True),
        clear=clear,
        recorder=recorder,
    )


@edit.command("study")
@knowledge_base_options
@click.argument("study_id", metavar="STUDY-ID")
@click.option("--type", "study_type", type=choice(StudyType), help="Kind of study (its design).")
@click.option("--title", help="Title as published.")
@click.option("--author", "authors", multiple=True, help="'Family, I.'; repeat: replaces the list.")
@click.option("--year", type=int, help="Year of publication.")
@click.option("--container", help="Journal, book, website or series.")
@click.option("--volume", help="Volume.")
@click.option("--issue", help="Issue.")
@click.option("--pages", help="Pages, e.g. 1269-1279.")
@click.option("--publisher", help="Publisher.")
@click.option("--url", help="Web address (http:// or https://).")
@click.option("--doi", help="DOI; a doi: or https://doi.org/ prefix is removed.")
@click.option("--setting", multiple=True, help="Country or UK nation; repeat: replaces the list.")
@click.option("--reference", help="The reference-list entry, verbatim.")
@click.option("--cited-as", multiple=True, help="An in-text citation form; repeat: replaces.")
@click.option(
    "--in-reference-list/--not-in-reference-list",
    default=None,
    help="Whether the source's reference list has it.",
)
@click.option("--note", help="Anything a later reviewer should know.")
@_clear_option(CLEARABLE_STUDY_FIELDS)
@_recorder_options
@DRY_RUN
@JSON_OPTION
def edit_study(
    root: str | None,
    database: str | None,
    study_id: str,
    clear: tuple[str, ...],
    recorded_by: str | None,
    recorded_on: str | None,
    dry_run: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Change a study's details, such as its type once you have read it.

    A new type recomputes the level of each of its appraised links (an appraisal starts from
    the type), which are then recorded as your judgement, today; links from a source report
    keep their level, and `kb check` warns if one is now above the type's usual ceiling.
    Lists given (--author, --setting, --cited-as) replace the study's.

    Example: kb edit study krause-2012 --type quasi-experimental --dry-run
    """
    from kb.edits import edit as editing

    fields: dict[str, Any] = {"type": options.pop("study_type")}
    for name, value in options.items():
        fields[name] = list(value) if isinstance(value, tuple) else value
    fields = {name: value for name, value in fields.items() if value not in (None, [])}
    if not fields and not clear:
        raise click.UsageError("give a field to change, e.g. --type review (see --help)")
    changed = editing.edit_study(
        paths_from(root, database),
        study_id,
        fields,
        list(clear),
        editing.Recorder(recorded_by, recorded_on),
        dry_run,
    )
    print_changed(changed, as_json, f"{study_id} already says so")


# --- kb rm -----------------------------------------------------------------------------------


@click.group()
def rm() -> None:
    """Remove an evidence link or a study.

    The result is checked as `kb check` would check it; a study that practice examples or key
    figures cite, or that has evidence links, is kept unless you add --force. --dry-run
    shows what would be removed and writes nothing.

    Example: kb rm evidence krause-2012--targets --dry-run
    """


@rm.command("evidence")
@knowledge_base_options
@click.argument("link_id", metavar="LINK-ID")
@DRY_RUN
@JSON_OPTION
def rm_evidence(
    root: str | None, database: str | None, link_id: str, dry_run: bool, as_json: bool
) -> None:
    """Remove an evidence link from its study.

    Example: kb rm evidence krause-2012--targets
    """
    from kb.edits import edit as editing

    changed = editing.remove_evidence(paths_from(root, database), link_id, dry_run)
    print_changed(changed, as_json, f"{link_id} is not there")


@rm.command("study")
@knowledge_base_options
@click.argument("study_id", metavar="STUDY-ID")
@click.option(
    "--reason",
    required=True,
    help="Why it is removed, for readers of the site: its page will say so.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Also remove its evidence links, and take it out of the examples and figures citing it.",
)
@click.option("--by", "removed_by", help="Who removes it [default: git config user.name].")
@click.option("--on", "removed_on", help="When, YYYY-MM-DD [default: today].")
@DRY_RUN
@JSON_OPTION
def rm_study(
    root: str | None,
    database: str | None,
    study_id: str,
    reason: str,
    force: bool,
    removed_by: str | None,
    removed_on: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Remove a study's file, and its held text (evidence/texts/STUDY-ID.txt), leaving a
    tombstone (removed/STUDY-ID.yaml) that says when, by whom and why: the study's page
    then says it was removed, and why.

    Refused while practice examples or key figures cite the study, or it has evidence
    links, unless --force.

    Example: kb rm study okafor-2020 --reason "A duplicate of okafor-2020a" --dry-run
    """
    from kb.edits import edit as editing

    changed = editing.remove_study(
        paths_from(root, database),
        study_id,
        reason,
        force,
        dry_run,
        editing.Recorder(removed_by, removed_on),
    )
    print_changed(changed, as_json, f"{study_id} is not there")


# --- kb mv -----------------------------------------------------------------------------------


@click.command()
@knowledge_base_options
@click.argument("old_id", metavar="OLD-ID")
@click.argument("new_id", metavar="NEW-ID")
@DRY_RUN
@JSON_OPTION
def mv(
    root: str | None, database: str | None, old_id: str, new_id: str, dry_run: bool, as_json: bool
) -> None:
    """Rename a record's ID everywhere: its file, every reference to it, derived IDs.

    Works for sources, themes, recommendations, studies, practice examples, key figures and
    evidence links. Every record naming it is changed (themes, responds_to, examples' and
    figures' lists, evidence links' recommendation and source), evidence-link IDs made from
    it (STUDY--RECOMMENDATION) are renamed, and so is a held text named for it. Words in notes
    are left alone. --dry-run shows every file that would change and writes nothing.

    Example: kb mv krause-2012 krause-2012a --dry-run
    """
    from kb.edits.rename import rename

    changed = rename(paths_from(root, database), old_id, new_id, dry_run)
    print_changed(changed, as_json, f"{old_id} is already {new_id}")
