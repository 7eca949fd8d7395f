"""Small file helpers shared by every layer."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

# Patient data is for the user alone: on POSIX the database, its WAL/SHM files,
# backups and the data folder are created readable by the owner only.
PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def make_private_dir(path: Path) -> Path:
    """Create ``path`` (and missing parents) if needed; a folder this call creates is owner-only on POSIX.

    Folders that already exist keep their permissions: the user may have chosen them.
    """
    path = Path(path)
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    path.mkdir(parents=True, exist_ok=True)
    for folder in missing:
        restrict(folder, PRIVATE_DIR_MODE)
    return path


def create_private_file(path: Path) -> bool:
    """Create an empty owner-only file at ``path`` unless something is there; True if this call made it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return False
    os.close(fd)
    restrict(path, PRIVATE_FILE_MODE)  # the umask may have taken bits away, never added: this is exact
    return True


def restrict(path: Path, mode: int) -> None:
    """chmod ``path`` to ``mode`` on POSIX (best effort: a file of another user is left as it is)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        os.chmod(path, mode)
