"""`kb add`, `kb import` and `kb fmt`: the reviewer's commands that write records.

Each parses options, calls one function of kb.edits.add or kb.records.fmt, and prints what was done.
"""

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from kb.cli import json_output, knowledge_base_options, paths_from
from kb.records.vocabularies import (
    Basis,
    Direction,
    Downgrade,
    Horizon,
    Relation,
    Strength,
    StudyType,
    TextPart,
    Upgrade,
)
from kb.references.importers import FORMATS

if TYPE_CHECKING:
    from kb.edits.add import ImportResult

_TITLE_WIDTH = 60
JSON_OPTION = click.option(
    "--json", "as_json", is_flag=True, help="Print what was done as JSON, for scripts."
)


def choice(vocabulary: type[StrEnum]) -> click.Choice[str]:
    return click.Choice([member.value for member in vocabulary])


def _missing(no_input: bool, values: dict[str, Any], prompts: dict[str, Any]) -> dict[str, Any]:
    """Prompt for each missing value, or with --no-input fail naming all of them."""
    missing = [name for name, value in values.items() if value in (None, "")]
    if no_input and missing:
        names = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
        them = "it" if len(missing) == 1 else "them"
        raise click.UsageError(f"missing {names}: give {them}, or leave out --no-input to be asked")
    for name in missing:
        text, kind = prompts[name]
        values[name] = click.prompt(text, type=kind)
    return values


@click.group()
def add() -> None:
    """Add a study, or an evidence link from a study to a recommendation.

    Missing details are asked for interactively (with the allowed values listed); give
    everything as options and --no-input in scripts. Each write is atomic, never replaces an
    existing record without --force, and is followed by a refresh of the store and index.

    Example: kb add study --title "Racism as a determinant of health" --author "Paradies, Y."
    --year 2015 --type systematic-review --doi https://doi.org/10.1371/journal.pone.0138511
    """


@add.command("study")
@knowledge_base_options
@click.option("--id", "record_id", help="Record ID [default: family name and year: priest-2015].")
@click.option("--title", help="Title as published.")
@click.option("--author", "authors", multiple=True, help="'Family, I.' or an organisation; repeat.")
@click.option("--year", type=int, help="Year of publication.")
@click.option("--type", "study_type", type=choice(StudyType), help="Kind of study.")
@click.option("--container", help="Journal, book, website or series.")
@click.option("--volume", help="Volume.")
@click.option("--issue", help="Issue.")
@click.option("--pages", help="Pages, e.g. 1269-1279.")
@click.option("--publisher", help="Publisher.")
@click.option("--url", help="Web address (http:// or https://).")
@click.option("--doi", help="DOI; a doi: or https://doi.org/ prefix is removed.")
@click.option("--setting", multiple=True, help="Country or UK nation studied; repeat.")
@click.option("--note", help="Anything a later reviewer should know.")
@click.option(
    "--no-input", is_flag=True, help="Never prompt: fail when --title or --type is missing."
)
@click.option("--force", is_flag=True, help="Replace an existing study's details (links are kept).")
@click.option("--allow-duplicate", is_flag=True, help="Add it even if it looks like a duplicate.")
@JSON_OPTION
def add_study(
    root: str | None,
    database: str | None,
    record_id: str | None,
    no_input: bool,
    force: bool,
    allow_duplicate: bool,
    as_json: bool,
    **details: Any,
) -> None:
    """Add a study record to evidence/studies/.

    Asks for the title, authors, year, type and DOI when they are not given, then for the ID,
    suggesting the first author's family name and the year (priest-2015; priest-2015b when
    that is taken). A pasted DOI or doi.org address is stored as the bare DOI.

    Example: kb add study --no-input --title "Pilot project" --author "Krause, A." --year 2012
    --type evaluation-report
    """
    from kb.edits import add as adding

    paths = paths_from(root, database)
    details["authors"] = list(details["authors"])
    details["setting"] = list(details.pop("setting"))
    details["type"] = details.pop("study_type")
    if not no_input:
        details = _ask_study(details)
        if record_id is None:
            suggested = adding.suggest_id(
                paths, details["authors"], details["year"], details["title"]
            )
            record_id = click.prompt("ID", default=suggested)
    _missing(no_input, {"title": details["title"], "type": details["type"]}, {})
    written = adding.add_study(paths, details, record_id, force, allow_duplicate)
    if as_json:
        json_output(written.as_dict())
        return
    click.echo(f"{written.action} {written.path}")
    click.echo(written.refreshed)


def _ask_study(details: dict[str, Any]) -> dict[str, Any]:
    if not details["title"]:
        details["title"] = click.prompt("Title")
    if not details["authors"]:
        answer = click.prompt(
            "Authors as 'Family, I.', separated by ';' (blank for none)",
            default="",
            show_default=False,
        )
        details["authors"] = [name.strip() for name in answer.split(";") if name.strip()]
    if details["year"] is None:
        answer = click.prompt("Year (blank if unknown)", default="", show_default=False)
        details["year"] = int(answer) if answer.strip().isdigit() else None
    if not details["type"]:
        details["type"] = click.prompt("Type", type=choice(StudyType))
    if not details["doi"]:
        details["doi"] = click.prompt("DOI (blank for none)", default="", show_default=False)
    return details


@add.command("evidence")
@knowledge_base_options
@click.argument("study_id", metavar="STUDY-ID")
@click.argument("recommendation_id", metavar="RECOMMENDATION-ID")
@click.option(
    "--basis",
    type=choice(Basis),
    help="source: what a source report says of the study; appraisal: your own reading of it.",
)
@click.option("--claim", help="Which part of the recommendation it bears on (for a 2nd link).")
@click.option("--relation", type=choice(Relation), help="How the study bears on it.")
@click.option(
    "--strength",
    type=choice(Strength),
    help="Strength of this evidence, S0–S5 [appraisal: default the level it gives].",
)
@click.option("--direction", type=choice(Direction), help="Direction of the effect.")
@click.option("--horizon", type=choice(Horizon), help="Time horizon of the effect.")
@click.option("--summary", help="One sentence in our own words.")
@click.option(
    "--quote",
    help="Verbatim passage: of the source report (basis source) or of the study's held text "
    "(basis appraisal, see `kb add text`); checked against it.",
)
@click.option(
    "--quote-unchecked",
    is_flag=True,
    help="The quote's text is not held, so it cannot be checked; say so plainly.",
)
@click.option("--source", help="Source report ID [basis source; default: the recommendation's].")
@click.option("--section", help="Heading of the quote's section [default: the recommendation's].")
@click.option("--page", type=click.IntRange(min=1), help="Page of the quote.")
@click.option("--above-ceiling", help="Why a source link is above its study type's usual ceiling.")
@click.option("--design", help="Appraisal: what the study did, in your words.")
@click.option("--population", help="Appraisal: who was studied.")
@click.option("--setting", "appraisal_setting", help="Appraisal: where, in what service.")
@click.option("--sample-size", help="Appraisal: the sample size, as the study states it.")
@click.option(
    "--downgrade",
    "downgrades",
    nargs=3,
    multiple=True,
    metavar="DOMAIN LEVELS REASON",
    help="Appraisal: rate down 1 or 2 levels for a GRADE domain ("
    + ", ".join(domain.value for domain in Downgrade)
    + "); repeat.",
)
@click.option(
    "--upgrade",
    "upgrades",
    nargs=3,
    multiple=True,
    metavar="DOMAIN LEVELS REASON",
    help="Appraisal: rate non-randomised evidence up ("
    + ", ".join(domain.value for domain in Upgrade)
    + "); repeat.",
)
@click.option("--rationale", help="Appraisal: why the evidence bears on it as rated.")
@click.option("--by", "recorded_by", help="Who records it [default: git config user.name].")
@click.option("--on", "recorded_on", help="When, YYYY-MM-DD [default: today].")
@click.option("--note", help="Why this strength, or anything a later reviewer should know.")
@click.option("--id", "finding_id", help="Link ID [default: STUDY-ID--RECOMMENDATION-ID].")
@click.option("--no-input", is_flag=True, help="Never prompt: fail when a value is missing.")
@JSON_OPTION
def add_evidence(
    root: str | None,
    database: str | None,
    study_id: str,
    recommendation_id: str,
    finding_id: str | None,
    no_input: bool,
    as_json: bool,
    **options: Any,
) -> None:
    """Link a study to a recommendation: append an evidence link to the study's record.

    Both must exist. A link says what it rests on (--basis). From a source report, the
    quote is the report's words about the study, checked against the report's text. An
    appraisal is your own reading of the study: the quote comes from its held text (`kb
    add text`), you describe the study (--design, --population, --setting, --sample-size),
    rate it down or up by GRADE domain, and its level follows by the rule on the
    methodology page. The link is checked as `kb check` would check it; if anything is
    wrong nothing is written.

    Example: kb add evidence behaghel-2015 hsc-recruitment-1 --basis appraisal
    --relation contradicts --direction harm --horizon short-term --summary "..."
    --quote "..." --design "..." --population "..." --setting "France"
    --downgrade indirectness 1 "French private firms, not UK health and social care"
    --rationale "..."
    """
    from kb.edits import add as adding

    finding = _evidence_from(options, no_input)
    paths = paths_from(root, database)
    written = adding.add_evidence(paths, study_id, recommendation_id, finding, finding_id)
    if as_json:
        json_output(written.as_dict())
        return
    click.echo(f"added {written.record_id} to {written.path}")
    click.echo(written.refreshed)


_EVIDENCE_PROMPTS: dict[str, tuple[str, click.Choice[str] | type[str]]] = {
    "basis": ("Basis (source: a report's words; appraisal: your reading)", choice(Basis)),
    "relation": ("Relation", choice(Relation)),
    "strength": ("Strength", choice(Strength)),
    "direction": ("Direction", choice(Direction)),
    "horizon": ("Horizon", choice(Horizon)),
    "summary": ("Summary (one sentence, our own words)", str),
    "quote": ("Quote (verbatim from the source)", str),
}
_APPRAISAL_PROMPTS = {
    "design": ("Design (what the study did, in your words)", str),
    "population": ("Population (who was studied)", str),
    "appraisal_setting": ("Setting (where, in what service)", str),
    "rationale": ("Rationale (why it bears on the recommendation as rated)", str),
}


def parse_ratings(
    given: tuple[tuple[str, str, str], ...],
    domains: type[StrEnum],
    option: str,
    removable: bool = False,
) -> list[dict[str, Any]]:
    """``--downgrade``/``--upgrade`` values as ratings, with usage errors for bad ones; with
    ``removable``, 0 levels (a rating to remove) too."""
    ratings = []
    allowed_levels = ("0", "1", "2") if removable else ("1", "2")
    for domain, levels, reason in given:
        if domain not in {member.value for member in domains}:
            allowed = ", ".join(member.value for member in domains)
            raise click.BadParameter(
                f"unknown domain {domain!r}; use one of: {allowed}", param_hint=option
            )
        if levels not in allowed_levels:
            raise click.BadParameter(
                f"levels must be {' or '.join(allowed_levels)}, not {levels!r}",
                param_hint=option,
            )
        ratings.append({"domain": domain, "levels": int(levels), "reason": reason})
    return ratings


def _ask_ratings(kind: str, domains: type[StrEnum]) -> list[dict[str, Any]]:
    ratings: list[dict[str, Any]] = []
    allowed = click.Choice(["", *(member.value for member in domains)])
    while True:
        domain = click.prompt(
            f"Rate {kind} for a domain ({', '.join(m.value for m in domains)}; blank when done)",
            type=allowed,
            default="",
            show_default=False,
            show_choices=False,
        )
        if not domain:
            return ratings
        levels = click.prompt("By how many levels", type=click.IntRange(1, 2), default=1)
        reason = click.prompt("Why")
        ratings.append({"domain": domain, "levels": levels, "reason": reason})


def _evidence_from(options: dict[str, Any], no_input: bool) -> dict[str, Any]:
    """The evidence link the options describe, asking for what is missing (unless no_input)."""
    basis = options["basis"]
    if basis is None and not no_input:
        text, kind = _EVIDENCE_PROMPTS["basis"]
        basis = click.prompt(text, type=kind)
    appraised = basis == Basis.APPRAISAL
    required = {
        name: basis if name == "basis" else options[name]
        for name in _EVIDENCE_PROMPTS
        if not (appraised and name == "strength")
    }
    values = _missing(no_input, required, _EVIDENCE_PROMPTS)
    finding: dict[str, Any] = {
        **values,
        "claim": options["claim"],
        "quote_unchecked": options["quote_unchecked"] or None,
        "above_ceiling": options["above_ceiling"],
        "recorded_by": options["recorded_by"],
        "recorded_on": options["recorded_on"],
        "note": options["note"],
        "section": options["section"],
        "page": options["page"],
    }
    if appraised:
        finding["strength"] = options["strength"]
        asked = _missing(
            no_input,
            {name: options[name] for name in _APPRAISAL_PROMPTS},
            _APPRAISAL_PROMPTS,
        )
        downgrades = parse_ratings(options["downgrades"], Downgrade, "--downgrade")
        upgrades = parse_ratings(options["upgrades"], Upgrade, "--upgrade")
        if not no_input and not options["downgrades"] and not options["upgrades"]:
            downgrades = _ask_ratings("down", Downgrade)
            upgrades = _ask_ratings("up", Upgrade)
        finding["appraisal"] = {
            "design": asked["design"],
            "population": asked["population"],
            "setting": asked["appraisal_setting"],
            "sample_size": options["sample_size"],
            "downgrades": downgrades,
            "upgrades": upgrades,
            "rationale": asked["rationale"],
        }
        finding["appraisal"] = {k: v for k, v in finding["appraisal"].items() if v is not None}
    else:
        finding["source"] = options["source"]
        for name in ("design", "population", "appraisal_setting", "sample_size", "rationale"):
            if options[name]:
                raise click.UsageError(
                    f"--{name.replace('appraisal_', '').replace('_', '-')} is for an appraisal: "
                    "add --basis appraisal"
                )
        if options["downgrades"] or options["upgrades"]:
            raise click.UsageError("--downgrade and --upgrade are for an appraisal")
    return {name: value for name, value in finding.items() if value is not None}


@add.command("text")
@knowledge_base_options
@click.argument("study_id", metavar="STUDY-ID")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--part",
    type=choice(TextPart),
    default=TextPart.ABSTRACT.value,
    show_default=True,
    help="What the text is.",
)
@click.option("--force", is_flag=True, help="Replace the study's held text.")
@JSON_OPTION
def add_text(
    root: str | None,
    database: str | None,
    study_id: str,
    file: Path,
    part: str,
    force: bool,
    as_json: bool,
) -> None:
    """Keep a study's abstract or excerpt, so an appraisal can quote it and be checked.

    FILE (UTF-8 text) is copied to evidence/texts/STUDY-ID.txt and the study's `text` and
    `text_part` set. Copy the text from the publisher's page exactly; quotes from it are
    then checked word for word. If the study's appraisals no longer match the text, nothing
    is written.

    Example: kb add text behaghel-2015 abstract.txt --part abstract
    """
    from kb.edits import add as adding

    written = adding.add_text(paths_from(root, database), study_id, file, part, force)
    if as_json:
        json_output(written.as_dict())
        return
    verb = "replaced" if written.action == "replaced" else "kept"
    click.echo(f"{verb} {written.path} for study {written.record_id}")
    click.echo(written.refreshed)


def _shorten(text: str, width: int = _TITLE_WIDTH) -> str:
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


@click.command("import")
@knowledge_base_options
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "format_name",
    type=click.Choice(FORMATS),
    help="Format of FILE [default: detected from its content].",
)
@click.option("--dry-run", is_flag=True, help="Show what would happen; write nothing.")
@click.option("--allow-duplicate", is_flag=True, help="Also add likely duplicates.")
@click.option("--all-or-nothing", is_flag=True, help="Write nothing if any entry is flagged.")
@JSON_OPTION
def import_references(
    root: str | None,
    database: str | None,
    file: Path,
    format_name: str | None,
    dry_run: bool,
    allow_duplicate: bool,
    all_or_nothing: bool,
    as_json: bool,
) -> None:
    """Add the studies of a reference export (RIS, BibTeX or CSL-JSON).

    Reads exports of Zotero, EndNote, Mendeley, Better BibTeX and Web of Science. Prints one
    line per entry: create (a new study), skip (a duplicate, naming the study it duplicates)
    or flag (cannot be read; nothing is written for it), then writes the new studies. Their
    type is `unclassified` unless the export's item type says it plainly (book, blog, data
    set); classify them before linking evidence. Exit code 1 when any entry is flagged.

    With --json, prints one object instead: "created" (each with its ID, file and study
    fields), "skipped" (each with the record it duplicates: "duplicate_of"), "flagged" (each
    with its "problems"), the files "written" and what was "refreshed".

    Example: kb import zotero.ris --dry-run
    """
    from kb.edits import add as adding

    result = adding.import_references(
        paths_from(root, database), file, format_name, dry_run, allow_duplicate, all_or_nothing
    )
    flag = result.count("flag")
    if as_json:
        json_output({"file": file.name, "dry_run": dry_run, **result.as_dict()})
    else:
        _print_import_table(result, dry_run, all_or_nothing)
    if flag:
        click.echo(
            f"error: {flag} of {len(result.planned)} entries in {file.name} cannot be imported "
            "(flagged above)",
            err=True,
        )
        sys.exit(1)


def _print_import_table(result: "ImportResult", dry_run: bool, all_or_nothing: bool) -> None:
    number_width = len(str(len(result.planned)))
    id_width = max([2, *(len(p.record_id or "-") for p in result.planned)])
    click.echo(f"{'#':>{number_width}}  action  {'id':<{id_width}}  details")
    for planned in result.planned:
        click.echo(
            f"{planned.entry.number:>{number_width}}  {planned.action:<6}  "
            f"{planned.record_id or '-':<{id_width}}  "
            + (_shorten(planned.details) if planned.action == "create" else planned.details)
        )
        for note in planned.entry.notes:
            click.echo(f"{'':>{number_width + 2 + 6 + 2 + id_width + 2}}note: {note}")
    if result.ignored:
        lines = _line_ranges(result.ignored)
        click.echo(
            f"ignored {_plural(len(result.ignored), 'line')} outside any entry ({lines}): "
            "export headers or notes, not references"
        )
    create, skip, flag = (result.count(action) for action in ("create", "skip", "flag"))
    if dry_run:
        click.echo(f"dry run: would create {create}, skip {skip}, flag {flag}; nothing written")
    elif all_or_nothing and flag:
        click.echo(f"flagged {flag} with --all-or-nothing: nothing written")
    else:
        click.echo(f"created {create}, skipped {skip}, flagged {flag}")
        if result.refreshed:
            click.echo(result.refreshed)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _line_ranges(numbers: list[int]) -> str:
    """[1, 2, 3, 7] → 'lines 1-3 and 7'."""
    ranges: list[list[int]] = []
    for number in numbers:
        if ranges and number == ranges[-1][-1] + 1:
            ranges[-1].append(number)
        else:
            ranges.append([number])
    shown = [str(run[0]) if len(run) == 1 else f"{run[0]}-{run[-1]}" for run in ranges]
    listed = shown[0] if len(shown) == 1 else f"{', '.join(shown[:-1])} and {shown[-1]}"
    return f"line{'s' if len(numbers) > 1 else ''} {listed}"


@click.command()
@knowledge_base_options
@click.argument("files", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--check", is_flag=True, help="Write nothing; list files that would change.")
def fmt(root: str | None, database: str | None, files: tuple[Path, ...], check: bool) -> None:
    """Rewrite record files in the canonical style (all records, or the FILES named).

    Keys in the schema's order, empty values left out, long text folded, lists one item a
    line. With --check nothing is written, and the exit code is 1 when any file would change
    (for CI).

    Example: kb fmt --check
    """
    from kb.records.fmt import format_records

    paths = paths_from(root, database)
    results = format_records(paths.root, files, check)
    verb = "would reformat" if check else "reformatted"
    for result in results:
        if result.status == "changed":
            click.echo(f"{verb} {result.path}")
        elif result.status == "refused":
            click.echo(f"cannot format {result.path}: {result.reason}")
    changed = sum(result.status == "changed" for result in results)
    refused = sum(result.status == "refused" for result in results)
    unchanged = len(results) - changed - refused
    noun = "file" if changed == 1 else "files"
    done = "would be reformatted" if check else "reformatted"
    summary = f"{changed} {noun} {done}, {unchanged} already canonical"
    click.echo(summary + (f", {refused} cannot be formatted" if refused else ""))
    if refused or (check and changed):
        sys.exit(1)
