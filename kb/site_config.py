"""The site's name and published address, set in one place: ``mkdocs.yml``.

``site_url`` in ``mkdocs.yml`` is the address the site is published at (README, "Publishing
the site"). The site build, ``kb brief``, ``kb show --json`` and ``kb search --json`` all read
it through ``site_info``, so every citation and JSON-LD record carries the same absolute,
permanent address of a record's page, or, while ``site_url`` is unset, no address at all
(never a made-up one).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from kb.errors import SiteConfigInvalid

if TYPE_CHECKING:
    from kb.history.release import Release

CONFIG_FILE = "mkdocs.yml"
# What a knowledge base without a site configuration (a test fixture, say) is called.
DEFAULT_NAME = "Evidence knowledge base"


@dataclass(frozen=True)
class SiteInfo:
    """What the pages and citations say about the site itself."""

    name: str
    url: str | None = None  # where the site is published, ending in "/"; None while unknown
    release: "Release | None" = None  # the latest content release (kb-release.yaml), if any
    repository: str | None = None  # where the records are kept (MkDocs' repo_url)
    contact: str | None = None  # who keeps the site and how to reach them (extra.contact)

    def absolute(self, path: str) -> str | None:
        """The permanent address of a site path (``recommendations/x/``), or None while the
        site's address is not set."""
        return f"{self.url.rstrip('/')}/{path}" if self.url else None


def _checked_url(value: object, config: Path) -> str | None:
    if value in (None, ""):
        return None
    text = str(value).strip()
    if (
        not isinstance(value, str)
        or not text.lower().startswith(("https://", "http://"))
        or any(character.isspace() or ord(character) < 32 for character in text)
        or len(text.split("/", 3)[2]) == 0
    ):
        raise SiteConfigInvalid(
            f"{config}: site_url: {value!r} is not an http(s) address; set it to where the "
            "site is published, e.g. https://example.org/race-equality/, or leave it unset"
        )
    return text if text.endswith("/") else f"{text}/"


def read_site_info(config: Path) -> SiteInfo:
    """``site_name`` and ``site_url`` from a MkDocs configuration file."""
    try:
        settings = yaml.safe_load(config.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise SiteConfigInvalid(f"{config} cannot be read: {error}") from None
    if not isinstance(settings, dict):
        raise SiteConfigInvalid(f"{config}: expected a mapping of settings")
    name = settings.get("site_name")
    if not isinstance(name, str) or not name.strip():
        raise SiteConfigInvalid(f"{config}: site_name: give the site's name")
    extra = settings.get("extra")
    extra = extra if isinstance(extra, dict) else {}
    repository, contact = settings.get("repo_url"), extra.get("contact")
    return SiteInfo(
        name.strip(),
        _checked_url(settings.get("site_url"), config),
        repository=repository if isinstance(repository, str) and repository.strip() else None,
        contact=contact if isinstance(contact, str) and contact.strip() else None,
    )


def site_info(root: Path) -> SiteInfo:
    """The site of the knowledge base at ``root``: its ``mkdocs.yml``, or, where it has none,
    ``DEFAULT_NAME`` and no address."""
    config = root / CONFIG_FILE
    if not config.is_file():
        return SiteInfo(DEFAULT_NAME)
    return read_site_info(config)
