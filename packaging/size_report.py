"""Size of the built bundles, unpacked and compressed, against the targets; written into docs/benchmarks.md.

    python packaging/size_report.py            # measures dist/tcm-desktop-inference and dist/tcm-desktop
    python packaging/size_report.py --no-write # print only

Unpacked: the sum of the files' sizes (what the installed folder holds).
Compressed: a zip of the folder with deflate at zlib's default level, the
way a download or an installer carries it (Inno Setup's LZMA2 is smaller).
Both builds must exist (``bash packaging/build.sh --no-retrain`` and
``bash packaging/build.sh``); a missing one is reported, not guessed.
The section ``packaging-size`` is replaced whole on every run.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.report import DOC, update_section  # noqa: E402 - after the path set-up above

SECTION = "packaging-size"
MB = 1_000_000


@dataclass(frozen=True)
class Build:
    name: str
    folder: Path
    target_mb: int  # the target for this build


BUILDS = (
    Build("inference only", ROOT / "dist" / "tcm-desktop-inference", 150),
    Build("with retraining", ROOT / "dist" / "tcm-desktop", 450),
)


@dataclass(frozen=True)
class Measured:
    build: Build
    files: int
    unpacked: int  # bytes
    compressed: int  # bytes

    def within(self, size: int) -> bool:
        return size <= self.build.target_mb * MB


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``; symbolic links count as themselves, not what they point to."""
    files = total = 0
    for path in sorted(folder.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue
        files += 1
        total += path.stat().st_size
    return files, total


def zipped_size(folder: Path) -> int:
    """Bytes of a deflate zip (default level) of ``folder``."""
    with tempfile.TemporaryDirectory() as tmp:
        archive = Path(tmp) / "bundle.zip"
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.is_symlink():
                    zf.write(path, path.relative_to(folder.parent))
        return archive.stat().st_size


def measure(build: Build) -> Measured:
    files, unpacked = folder_size(build.folder)
    return Measured(build, files, unpacked, zipped_size(build.folder))


def mb(size: int) -> str:
    return f"{size / MB:.1f} MB"


def verdict(measured: Measured) -> str:
    """Which of the two sizes meet the target."""
    unpacked, compressed = measured.within(measured.unpacked), measured.within(measured.compressed)
    if unpacked:
        return "met (unpacked and compressed)"
    if compressed:
        return "met compressed, not unpacked"
    return "not met"


def section_body(rows: Sequence[Measured], missing: Sequence[Build], biggest: Sequence[tuple[str, int]]) -> str:
    """The Markdown of the section: one row per build, the largest parts, and what was not built."""
    lines = [
        "## Packaging: size of the one-folder bundle",
        "",
        "`python packaging/size_report.py` after `bash packaging/build.sh --no-retrain` and `bash packaging/build.sh`"
        " (PyInstaller one-folder builds, this machine's platform). Unpacked: the sum of the files' sizes; compressed:"
        " a zip at deflate's default level. MB = 10^6 bytes.",
        "",
        "| build | folder | files | unpacked | compressed | target | target met |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.build.name} | `dist/{row.build.folder.name}` | {row.files} | {mb(row.unpacked)} |"
            f" {mb(row.compressed)} | {row.build.target_mb} MB | {verdict(row)} |"
        )
    for build in missing:
        lines.append(f"| {build.name} | `dist/{build.folder.name}` | — | not built | — | {build.target_mb} MB | — |")
    if biggest:
        lines += ["", "Largest parts of the biggest build (unpacked):", ""]
        lines += [f"- `{name}`: {mb(size)}" for name, size in biggest]
    return "\n".join(lines)


def largest_parts(folder: Path, count: int = 10) -> list[tuple[str, int]]:
    """The ``count`` largest top-level entries of ``_internal`` (or the folder), biggest first."""
    base = folder / "_internal" if (folder / "_internal").is_dir() else folder
    sizes = []
    for entry in base.iterdir():
        size = folder_size(entry)[1] if entry.is_dir() else (0 if entry.is_symlink() else entry.stat().st_size)
        sizes.append((entry.name, size))
    return sorted(sizes, key=lambda item: (-item[1], item[0]))[:count]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print the section, do not touch the docs")
    parser.add_argument("--doc", type=Path, default=DOC)
    args = parser.parse_args(argv)
    built = [b for b in BUILDS if b.folder.is_dir()]
    missing = [b for b in BUILDS if not b.folder.is_dir()]
    rows = [measure(build) for build in built]
    biggest = largest_parts(max(rows, key=lambda r: r.unpacked).build.folder) if rows else []
    body = section_body(rows, missing, biggest)
    print(body)
    if not args.no_write:
        update_section(SECTION, body, doc=args.doc, writer="packaging/size_report.py")
        print(f"wrote the {SECTION!r} section of {os.path.relpath(args.doc, ROOT)}")
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
