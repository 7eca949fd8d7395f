"""Logs never contain record text: the filter withholds it, and the store's flows do not log it."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from tcm_desktop.cli import main
from tcm_desktop.store.log_privacy import RecordTextFilter, install_log_privacy, redact

SECRET = "患者林黛玉，女，17岁，咳嗽咯血，电话13912345678。"


def test_the_filter_withholds_chinese_text_and_masks_identifiers_in_messages_and_tracebacks() -> None:
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(self.format(record))

    handler = Keep()
    handler.addFilter(RecordTextFilter())
    log = logging.getLogger("tcm.test.privacy")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("record %s text %r id 110101199003074514", "R1", SECRET)
        try:
            raise ValueError(SECRET)
        except ValueError:
            log.exception("failed on %s", "R1")
    finally:
        log.removeHandler(handler)
    text = "\n".join(records)
    assert "R1" in text and "<text:" in text and "Traceback" in text
    for piece in ("林黛玉", "咳嗽", "13912345678", "110101199003074514"):
        assert piece not in text
    assert redact("plain English 42") == "plain English 42"


def test_install_adds_the_filter_to_every_root_handler_once() -> None:
    root = logging.getLogger()
    extra = logging.NullHandler()
    root.addHandler(extra)
    try:
        install_log_privacy()
        install_log_privacy()
        assert sum(isinstance(f, RecordTextFilter) for f in extra.filters) == 1
    finally:
        root.removeHandler(extra)


def test_store_flows_log_no_record_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "R1", "specialty": "general", "text": SECRET}, ensure_ascii=False),
        json.dumps({"id": "R2", "text": SECRET, "spans": [{"start": 0, "end": 2, "label": "BAD", "text": "x"}]}),
        "{broken " + SECRET,
    ]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    db = tmp_path / "c.db"
    caplog.set_level(logging.DEBUG)
    main(["import", str(source), "--db", str(db)])
    main(["export", "--db", str(db), "--out", str(tmp_path / "o.jsonl")])
    main(["export", "--db", str(db), "--out", str(tmp_path / "o.csv"), "--format", "csv", "--no-deidentify"])
    main(["backup", "--db", str(db)])
    main(["audit", "verify", "--db", str(db)])
    capsys.readouterr()
    logged = caplog.text + "\n".join(r.getMessage() for r in caplog.records)
    assert "林黛玉" not in logged and "咳嗽" not in logged and "13912345678" not in logged
