"""Numbered SQL migrations, applied in order by :mod:`tcm_desktop.store.database`.

Each file is ``NNNN_name.sql``; its number becomes ``PRAGMA user_version``
once it is applied. A migration may also have a Python step, run inside its
transaction after the SQL (``_AFTER_MIGRATION`` in
:mod:`tcm_desktop.store.database`; 0003 chains the audit rows already there).
The files are package data: a frozen build must ship them
(``tcm_desktop/store/migrations/*.sql``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations() -> list[Migration]:
    """All migrations shipped with the package, by version; numbers must be 1, 2, 3, ..."""
    found: list[Migration] = []
    for entry in resources.files(__name__).iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    expected = list(range(1, len(found) + 1))
    if [m.version for m in found] != expected:
        raise RuntimeError(f"migrations are not numbered 1..{len(found)}: {[m.name for m in found]}")
    return found
