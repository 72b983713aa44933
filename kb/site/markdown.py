"""A Python-Markdown extension that passes the generated pages' HTML blocks through unparsed.

Record pages are mostly raw HTML blocks (tables, definition lists, citations) between Markdown
headings. Python-Markdown finds where each block ends by running an HTML parser over it, and
MkDocs runs a second one to collect its ``id`` attributes for anchor checks: together over a
third of the time MkDocs spends on such a page. Every HTML block of a generated page is ours
(record text in it is escaped by ``kb.render.escape.inert``, so it holds no ``<`` and no blank
line but in a citation's ``<pre>``), and each is written as lines from ``<div class="kb-…">``
to a ``</div>`` line followed by a blank line. This extension stores such blocks in Markdown's
HTML stash before either parser runs, exactly as the HTML block parser would store them, and
hands their ``id`` attributes to MkDocs itself.

Only such blocks are taken: the hand-written pages' HTML is parsed as usual. The output is
byte-identical to Python-Markdown's own (``tests/test_site.py``).
"""

import re
from html import unescape
from typing import Any

from markdown import Extension, Markdown
from markdown.preprocessors import Preprocessor

BLOCK_START = '<div class="kb-'
_ID = re.compile(r'\sid="([^"]*)"')


class _StashGeneratedBlocks(Preprocessor):
    """Replace each generated HTML block with a placeholder for the stashed block."""

    def __init__(self, md: Markdown) -> None:
        super().__init__(md)
        self.anchor_ids: set[str] = set()

    def run(self, lines: list[str]) -> list[str]:
        self.anchor_ids = set()
        kept: list[str] = []
        block: list[str] = []
        for line in lines:
            if block:
                if line.strip() or block[-1] != "</div>":
                    block.append(line)
                    continue
                kept.extend(self._stash(block))
                block = []
                kept.append(line)
            elif line.startswith(BLOCK_START) and (not kept or not kept[-1].strip()):
                block = [line]
            else:
                kept.append(line)
        if block:
            kept.extend(self._stash(block))
        return kept

    def _stash(self, block: list[str]) -> list[str]:
        html = "\n".join(block)
        self.anchor_ids.update(unescape(found) for found in _ID.findall(html))
        return [self.md.htmlStash.store(html + "\n"), ""]


class _ShareAnchorIds(Preprocessor):
    """Give MkDocs the ``id`` attributes of the stashed blocks, which its own raw HTML
    preprocessor (run just before this one) no longer sees."""

    def __init__(self, md: Markdown, stash: _StashGeneratedBlocks) -> None:
        super().__init__(md)
        self.stash = stash

    def run(self, lines: list[str]) -> list[str]:
        if "mkdocs_raw_html" in self.md.preprocessors:
            raw_html = self.md.preprocessors["mkdocs_raw_html"]  # mkdocs's _RawHTMLPreprocessor
            raw_html.present_anchor_ids |= self.stash.anchor_ids  # type: ignore[attr-defined]
        return lines


class GeneratedHtmlBlocks(Extension):
    def extendMarkdown(self, md: Markdown) -> None:
        stash = _StashGeneratedBlocks(md)
        # After whitespace normalisation (30), before MkDocs's id collector (21) and the HTML
        # block parser (20); the id hand-over runs between those two.
        md.preprocessors.register(stash, "kb_generated_html", 25)
        md.preprocessors.register(_ShareAnchorIds(md, stash), "kb_generated_html_ids", 20.5)


def makeExtension(**kwargs: Any) -> GeneratedHtmlBlocks:
    return GeneratedHtmlBlocks(**kwargs)
