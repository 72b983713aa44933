"""`kb extract-messages`: refresh the interface's translation catalogues for translators."""

import click

from kb.cli import fails_cleanly


@click.command("extract-messages")
@fails_cleanly
def extract_messages() -> None:
    """Extract the interface's messages into kb/locale/messages.pot and merge them into each
    language's catalogue, for a translator to edit (Poedit, Weblate).

    New messages arrive untranslated, changed ones marked fuzzy. Example: kb extract-messages
    """
    from kb.localization import extract_messages as extract

    state = extract()
    click.echo(
        f"{state.messages} messages; {state.language}: {state.translated} translated, "
        f"{state.drafts} of them drafts awaiting review, {len(state.missing)} missing"
    )
