"""The ``gui`` step of ``tcm-desktop --self-test``: Qt starts, the English catalogue and the bundled font load,
and the main window opens on a temporary database (no model) and closes again.

Headless machines run it with ``QT_QPA_PLATFORM=offscreen``; a frozen build
that lacks a Qt platform plugin, the ``.qm`` catalogue or the font fails here.
"""

from __future__ import annotations

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from tcm_desktop.self_test import SelfTestContext, Step

ENGLISH = "en"


def check_gui(context: SelfTestContext) -> str:
    from tcm_desktop.domain import default_schema
    from tcm_desktop.store import Database
    from tcm_desktop.ui.fonts import install_app_font
    from tcm_desktop.ui.i18n import APP_CATALOG, install_translators
    from tcm_desktop.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(["tcm-desktop"])
    assert isinstance(app, QApplication)
    loaded = install_translators(app, ENGLISH)
    if f"{APP_CATALOG}_{ENGLISH}" not in loaded:
        raise RuntimeError(f"the English catalogue did not load (loaded: {', '.join(loaded) or 'none'})")
    family = install_app_font(app)
    if family is None:
        raise RuntimeError("the bundled font did not load")
    settings = QSettings(str(context.tmp / "window.ini"), QSettings.Format.IniFormat)
    with Database.open(context.tmp / "gui.sqlite", data_dir=context.tmp / "gui-data") as db:
        window = MainWindow(db, default_schema(), settings=settings, model_dir=None, who="self-test")
        window.show()
        app.processEvents()
        title = window.windowTitle()
        window.inference.shutdown()
        window.close()
        window.deleteLater()
        app.processEvents()
    return f"Qt platform {app.platformName()}, catalogues {', '.join(loaded)}, font {family}, window {title!r}"


GUI_STEP = Step("gui", check_gui)
