"""Settings, declared once with default and help, read from options or `KB_*` variables."""

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def environment_variable(self) -> str:
        return f"KB_{self.name.upper()}"


SETTINGS = (
    Setting("root", ".", "Folder holding the knowledge base (recommendations/ and evidence/)."),
    Setting("database", "build/kb.sqlite", "SQLite store, relative to the root unless absolute."),
    Setting("index", "build/index", "Search index folder, relative to the root unless absolute."),
    Setting("max_file_bytes", str(1024 * 1024), "Largest record file accepted, in bytes."),
    Setting("max_field_chars", "20000", "Longest text accepted in one record field."),
    # 51 MiB: a 50 MiB export (tens of thousands of references) and then some.
    Setting("max_import_bytes", str(51 * 1024 * 1024), "Largest file `kb import` reads, in bytes."),
    # Whoosh's own default. Above it, the index writer spills postings to temporary files and
    # merges them: at 10,000 studies 2048 avoids that and builds in 72-83 s instead of 110 s,
    # with a peak of 1.7 GB instead of 0.4 GB (docs/performance.md).
    Setting("index_memory_mb", "128", "Memory the search index writer may hold postings in, MB."),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def setting_value(name: str, given: str | None = None) -> str:
    """Return the value given on the command line, else the environment's, else the default."""
    if given is not None:
        return given
    setting = _BY_NAME[name]
    return os.environ.get(setting.environment_variable, setting.default)


def resolve_path(root: Path, name: str, given: str | None = None) -> Path:
    """Return a path setting, taken relative to ``root`` unless it is absolute."""
    path = Path(setting_value(name, given))
    return path if path.is_absolute() else root / path
