"""PyInstaller runtime hook: on Windows, make the bundled onnxruntime DLLs the ones that load.

Frozen apps have failed with "onnxruntime DLL not found" or loaded another
``onnxruntime.dll`` first (recent Windows ships one in System32). Before any
import of onnxruntime this puts the bundle's ``onnxruntime/capi`` folder on
the DLL search path (``os.add_dll_directory`` and the front of ``PATH``) and
loads its ``onnxruntime.dll`` by full path. Elsewhere it does nothing.
"""

import os
import sys
from pathlib import Path


def add_onnxruntime_dll_folder(root: Path, platform: str = sys.platform) -> Path | None:
    """The folder added to the DLL search path, or None (not Windows, or no such folder)."""
    if platform != "win32":
        return None
    folder = Path(root) / "onnxruntime" / "capi"
    if not folder.is_dir():
        return None
    os.add_dll_directory(str(folder))  # type: ignore[attr-defined]  # Windows only
    os.environ["PATH"] = str(folder) + os.pathsep + os.environ.get("PATH", "")
    dll = folder / "onnxruntime.dll"
    if dll.is_file():
        import ctypes

        ctypes.WinDLL(str(dll))  # type: ignore[attr-defined]  # this copy, before any other of the same name
    return folder


_root = getattr(sys, "_MEIPASS", None)
if _root:
    add_onnxruntime_dll_folder(Path(_root))
