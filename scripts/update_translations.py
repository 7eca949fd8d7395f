"""Refresh the English translation of the interface: .ts from the sources, then the .qm.

    python scripts/update_translations.py          # lupdate + lrelease
    python scripts/update_translations.py --check  # also fail if a string has no English yet

Strings are Chinese in the source (``self.tr("文件(&F)")``,
``QCoreApplication.translate("Context", "...")``, ``QT_TRANSLATE_NOOP``).
``pyside6-lupdate`` (from PySide6-Essentials) adds new strings to
``resources/translations/tcm_desktop_en.ts`` as unfinished and keeps the
translations already there; translate them in Qt Linguist
(``pyside6-linguist``) or in the XML, then run this again so
``pyside6-lrelease`` compiles ``tcm_desktop_en.qm``, the file the program loads.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "tcm_desktop" / "ui"
TS = ROOT / "resources" / "translations" / "tcm_desktop_en.ts"


def tool(name: str) -> str:
    """The PySide6 tool beside this Python (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} not found: install PySide6-Essentials in this environment")
    return found


def unfinished(ts: Path) -> list[str]:
    """``context: source`` of every message without a finished translation."""
    missing = []
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name", "")
        for message in context.iter("message"):
            translation = message.find("translation")
            if translation is None or translation.get("type") in ("unfinished", "vanished", "obsolete"):
                if translation is None or translation.get("type") == "unfinished":
                    missing.append(f"{name}: {message.findtext('source', '')}")
            elif not (translation.text or "").strip():
                missing.append(f"{name}: {message.findtext('source', '')}")
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when a string has no English translation")
    args = parser.parse_args()
    TS.parent.mkdir(parents=True, exist_ok=True)
    sources = sorted(str(p) for p in SOURCES.glob("*.py"))
    lupdate = [tool("pyside6-lupdate"), *sources, "-source-language", "zh_CN", "-target-language", "en"]
    subprocess.run([*lupdate, "-locations", "none", "-no-obsolete", "-ts", str(TS)], check=True)
    subprocess.run([tool("pyside6-lrelease"), str(TS), "-qm", str(TS.with_suffix(".qm"))], check=True)
    missing = unfinished(TS)
    for item in missing:
        print(f"untranslated: {item}", file=sys.stderr)
    return 1 if args.check and missing else 0


if __name__ == "__main__":
    sys.exit(main())
