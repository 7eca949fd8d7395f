"""Logs never carry record text: a logging filter that withholds Chinese text and masks identifiers.

Record text is Chinese clinical prose; log messages of the program are
English. :class:`RecordTextFilter` rewrites every record that reaches a
handler: each run of CJK characters becomes ``<text:N>`` (N characters
withheld) and names, ID-card, phone numbers and addresses left in ASCII
form are masked (:func:`tcm_desktop.store.deidentify.mask_text`), in the
message, its arguments and a formatted traceback alike. The program
(``tcm`` and ``tcm-desktop``) installs it on the root logger's handlers at
start with :func:`install_log_privacy`.
"""

from __future__ import annotations

import logging
import re
import sys

from tcm_desktop.store.deidentify import mask_text

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]+")
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def redact(text: str) -> str:
    """``text`` with identifiers masked and every run of Chinese characters withheld."""
    return _CJK_RUN.sub(lambda m: f"<text:{len(m.group())}>", mask_text(text))


class RecordTextFilter(logging.Filter):
    """Rewrites a log record so that no record text can leave through it (see the module docstring)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_privacy(level: int = logging.WARNING) -> logging.Handler:
    """Give the root logger a stderr handler if it has none, and the filter on every handler it has."""
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        root.addHandler(handler)
        root.setLevel(level)
    for handler in root.handlers:
        if not any(isinstance(f, RecordTextFilter) for f in handler.filters):
            handler.addFilter(RecordTextFilter())
    return root.handlers[0]
