"""The words of the site's scripts (docs/javascripts/*.js) in the site's language, from the
catalogue (``kb.localization``), written as ``javascripts/kb-words.js`` into the folder MkDocs
builds from, for docs/javascripts/words.js to look up by their English.

A message with a number has its forms for 0 to 7: English and Welsh choose a form by the number
only below 7, so the form for 7 stands for every number above (a language that needs more would
need more here).
"""

import json
from collections.abc import Mapping
from pathlib import Path

from kb.localization import translations

SCRIPT = Path("javascripts") / "kb-words.js"
FORMS = range(8)


def script_words(language: str) -> dict[str, Mapping[str, object]]:
    """Every message of the site's scripts in ``language``, keyed by its English."""
    words = translations(language)
    _ = words.gettext

    def count_forms(one: str, many: str) -> tuple[str, list[str]]:  # extracted as ngettext is
        return one, [words.ngettext(one, many, number) for number in FORMS]

    plain = {
        "Add to the brief: %(title)s": _("Add to the brief: %(title)s"),
        "Remove from the brief: %(title)s": _("Remove from the brief: %(title)s"),
        "In the brief ✓": _("In the brief ✓"),
        "Add to brief": _("Add to brief"),
        "Remove from the brief": _("Remove from the brief"),
        "Strength of evidence:": _("Strength of evidence:"),
        "Key quote:": _("Key quote:"),
        "Source:": _("Source:"),
        "Online:": _("Online:"),
        "Copy for briefing": _("Copy for briefing"),
        "Copied: statement, strength, key quote and citation.": _(
            "Copied: statement, strength, key quote and citation."
        ),
        "Your browser did not allow copying; select the text instead.": _(
            "Your browser did not allow copying; select the text instead."
        ),
        "No statement is selected yet: tick “Brief” in the explorer, the search results or "
        "on a recommendation’s page.": _(
            "No statement is selected yet: tick “Brief” in the explorer, the search results or "
            "on a recommendation’s page."
        ),
        "Not found, so left out: %(ids)s.": _("Not found, so left out: %(ids)s."),
        "Evidence brief": _("Evidence brief"),
        "Link copied: %(link)s": _("Link copied: %(link)s"),
        "Showing %(shown)s of %(total)s statements.": _(
            "Showing %(shown)s of %(total)s statements."
        ),
        "Showing %(links)s to %(studies)s for “%(title)s”; the rest of the drawing is faded.": _(
            "Showing %(links)s to %(studies)s for “%(title)s”; the rest of the drawing is faded."
        ),
        "Showing every recommendation.": _("Showing every recommendation."),
        # The brief page's overview sentence (kb.brief.content.overview).
        "%(covers)s. Headline strength of evidence: %(levels)s.": _(
            "%(covers)s. Headline strength of evidence: %(levels)s."
        ),
        "%(level)s for %(num)s": _("%(level)s for %(num)s"),
    }
    counts = dict(
        [
            count_forms("%(num)s statement", "%(num)s statements"),
            count_forms("%(num)s evidence link", "%(num)s evidence links"),
            count_forms("%(num)s study", "%(num)s studies"),
            count_forms("Brief: %(num)s selected →", "Brief: %(num)s selected →"),
            count_forms("Showing all %(num)s statement.", "Showing all %(num)s statements."),
            count_forms("%(num)s statement in this brief.", "%(num)s statements in this brief."),
            count_forms("%(num)s recommendation", "%(num)s recommendations"),
            count_forms("%(num)s key message", "%(num)s key messages"),
            count_forms("%(num)s recurring recommendation", "%(num)s recurring recommendations"),
            count_forms("%(num)s government action", "%(num)s government actions"),
        ]
    )
    return {"words": plain, "counts": counts}


def write_script_words(docs: Path, language: str) -> Path:
    """Write ``javascripts/kb-words.js`` into the folder MkDocs builds from."""
    path = docs / SCRIPT
    path.parent.mkdir(parents=True, exist_ok=True)
    table = json.dumps(script_words(language), ensure_ascii=False, sort_keys=True)
    path.write_text(f"window.kbWords = {table};\n", encoding="utf-8")
    return path
