"""Settings, declared once with default, help and type, read from options or `KB_*` variables.

Every value is checked for its type when it is read: a path must not be empty, a number must be
a whole number within the setting's range. A wrong value is a ``SettingInvalid`` that names the
option or variable it came from, never a traceback from deep inside the command that used it.
``check_environment`` checks every ``KB_*`` variable at once, so a command fails on a mistyped
setting before it starts, whether or not it uses that setting.
"""

import os
from dataclasses import dataclass
from pathlib import Path

from kb.errors import SettingInvalid

_MIB = 1024 * 1024


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and help; for a number, its unit and its range."""

    name: str
    default: str
    help: str
    unit: str = ""  # a number's unit ("bytes"); empty for a path
    largest: int = 0  # a number's largest value (the smallest is 1)
    names: str = ""  # what a path names: "file" or "folder"

    @property
    def environment_variable(self) -> str:
        return f"KB_{self.name.upper()}"

    @property
    def is_number(self) -> bool:
        return bool(self.unit)


SETTINGS = (
    Setting(
        "root",
        ".",
        "Folder holding the knowledge base (recommendations/ and evidence/) [default: this "
        "folder, or the nearest one above it that holds them].",
        names="folder",
    ),
    Setting(
        "database",
        "build/kb.sqlite",
        "SQLite store, relative to the root unless absolute.",
        names="file",
    ),
    Setting(
        "index",
        "build/index",
        "Search index folder, relative to the root unless absolute.",
        names="folder",
    ),
    # The largest values are what a reader can hold without running out of memory: a file is
    # read in one piece of up to the limit.
    Setting(
        "max_file_bytes", str(_MIB), "Largest record file accepted, in bytes.", "bytes", 64 * _MIB
    ),
    Setting(
        "max_field_chars",
        "20000",
        "Longest text accepted in one record field.",
        "characters",
        64 * _MIB,
    ),
    # 51 MiB: a 50 MiB export (tens of thousands of references) and then some.
    Setting(
        "max_import_bytes",
        str(51 * _MIB),
        "Largest file `kb import` reads, in bytes.",
        "bytes",
        1024 * _MIB,
    ),
    # Whoosh's own default. Above it, the index writer spills postings to temporary files and
    # merges them: at 10,000 studies 2048 avoids that and builds in 72-83 s instead of 110 s,
    # with a peak of 1.7 GB instead of 0.4 GB (docs/performance.md).
    Setting(
        "index_memory_mb",
        "128",
        "Memory the search index writer may hold postings in, MB.",
        "megabytes",
        65536,
    ),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


def _checked(setting: Setting, value: str, where: str) -> str:
    """``value`` if it is a valid value of ``setting``; ``where`` names where it came from."""
    if not value.strip():
        what = f"a whole number of {setting.unit}" if setting.is_number else "a path"
        raise SettingInvalid(f"{where} is empty; give {what}, or leave it unset for the default")
    if setting.is_number:
        text = value.strip()
        if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= setting.largest:
            raise SettingInvalid(
                f"{where} must be a whole number of {setting.unit} from 1 to "
                f"{setting.largest:,}, not {value!r}"
            )
    return value


def setting_value(name: str, given: str | None = None) -> str:
    """Return the value given on the command line, else the environment's, else the default;
    raise ``SettingInvalid`` when it is not a valid value of the setting."""
    setting = _BY_NAME[name]
    where = setting_source(name, given)
    if where is None:
        return setting.default
    return _checked(setting, os.environ[where] if given is None else given, where)


def number_setting(name: str) -> int:
    """A number setting's value, checked (``setting_value``)."""
    return int(setting_value(name))


def check_environment() -> None:
    """Raise ``SettingInvalid`` for the first ``KB_*`` variable whose value is not valid."""
    for setting in SETTINGS:
        setting_value(setting.name)


def setting_source(name: str, given: str | None = None) -> str | None:
    """Where a setting's value comes from: its option, its variable, or None (the default)."""
    setting = _BY_NAME[name]
    if given is not None:
        return f"--{name.replace('_', '-')}"
    return setting.environment_variable if setting.environment_variable in os.environ else None


def resolve_path(root: Path, name: str, given: str | None = None) -> Path:
    """Return a path setting, taken relative to ``root`` unless it is absolute; raise
    ``SettingInvalid`` when it names a folder where a file belongs, or the other way round."""
    value = setting_value(name, given)
    path = Path(value)
    path = path if path.is_absolute() else root / path
    wanted = _BY_NAME[name].names
    if (wanted == "file" and path.is_dir()) or (wanted == "folder" and path.is_file()):
        found = "folder" if wanted == "file" else "file"
        where = setting_source(name, given) or f"the default {name}"
        raise SettingInvalid(f"{where} names a {found}, {path}; it must name a {wanted}")
    return path
