"""The installer script, the spec and the program agree on names that would break an install if they drifted:
the user data folder the uninstaller keeps (or removes), the build folders and the executables."""

from __future__ import annotations

import re
from pathlib import Path

from tcm_desktop.frozen import RETRAIN_EXECUTABLE
from tcm_desktop.paths import APP_NAME

ROOT = Path(__file__).resolve().parents[3]
ISS = (ROOT / "packaging" / "windows" / "tcm_desktop.iss").read_text(encoding="utf-8-sig")
SPEC = (ROOT / "packaging" / "tcm_desktop.spec").read_text(encoding="utf-8")


def define(name: str) -> str:
    match = re.search(rf'#define {name} "([^"]+)"', ISS)
    assert match, f"{name} is not defined in the .iss"
    return match.group(1)


def test_the_uninstaller_looks_after_the_folder_the_program_keeps_its_data_in() -> None:
    # platformdirs on Windows: %LOCALAPPDATA%\<appname> with no author (tcm_desktop/paths.py) and roaming off
    assert define("UserDataFolder") == APP_NAME
    assert "{localappdata}\\{#UserDataFolder}" in ISS
    assert "procedure CurUninstallStepChanged" in ISS and "DelTree(UserDataDir()" in ISS


def test_the_installer_packs_the_folders_and_starts_the_executable_the_spec_builds() -> None:
    names = re.search(r'NAME = "([^"]+)" if RETRAIN else "([^"]+)"', SPEC)
    assert names is not None
    full, inference = names.groups()
    assert f'"..\\..\\dist\\{full}"' in ISS and f'"..\\..\\dist\\{inference}"' in ISS
    assert re.search(r'name="tcm-desktop",', SPEC) and '"{app}\\tcm-desktop.exe"' in ISS
    assert f'name="{RETRAIN_EXECUTABLE}",' in SPEC


def test_it_installs_per_user_without_administrator_rights() -> None:
    assert re.search(r"^PrivilegesRequired=lowest\r?$", ISS, re.M)
    assert re.search(r"^DefaultDirName=\{autopf\}\\", ISS, re.M)
    assert "{autoprograms}\\TCM Desktop" in ISS
