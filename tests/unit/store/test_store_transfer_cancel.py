"""Import and export report progress and stop when asked; a stopped export leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from store_testkit import gastro_record, write_image

from tcm_desktop.store import Database, OperationCancelled, export_records, import_records


def fill_with_images(db: Database, tmp_path: Path, n: int) -> None:
    for i in range(n):
        db.records.add(gastro_record(f"R{i}", image=f"R{i}.jpg"), write_image(tmp_path / "src" / f"R{i}.jpg", seed=i))


def test_a_stopped_export_leaves_no_file_and_no_copied_images(db: Database, tmp_path: Path) -> None:
    fill_with_images(db, tmp_path, 4)
    out = tmp_path / "out" / "export.jsonl"
    progress: list[tuple[int, int]] = []
    with pytest.raises(OperationCancelled, match="not written"):
        export_records(
            db, "jsonl", out, on_progress=lambda d, n: progress.append((d, n)), should_stop=lambda: len(progress) >= 2
        )
    assert progress == [(1, 4), (2, 4)]  # two records (and their images) were done when it stopped
    assert list((tmp_path / "out").iterdir()) == []


def test_a_stopped_export_keeps_the_earlier_export_and_its_images(db: Database, tmp_path: Path) -> None:
    fill_with_images(db, tmp_path, 3)
    out = tmp_path / "export.csv"
    assert export_records(db, "csv", out) == 3
    before = out.read_bytes()
    images = sorted(p.name for p in (tmp_path / "export_images").iterdir())
    with pytest.raises(OperationCancelled):
        export_records(db, "csv", out, should_stop=lambda: True)
    assert out.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "export_images").iterdir()) == images


def test_export_reports_progress_for_every_record(db: Database, tmp_path: Path) -> None:
    fill_with_images(db, tmp_path, 3)
    progress: list[tuple[int, int]] = []
    count = export_records(
        db, "bio", tmp_path / "x.bio", ids=["R2", "R0"], on_progress=lambda d, n: progress.append((d, n))
    )
    assert count == 2
    assert progress == [(1, 2), (2, 2)]


def test_a_stopped_import_keeps_what_it_stored_and_says_so(db: Database, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [json.dumps(gastro_record(f"N{i}").to_dict(), ensure_ascii=False) for i in range(5)]
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done: list[int] = []
    report = import_records(source, db, on_progress=lambda d, n: done.append(d), should_stop=lambda: len(done) >= 3)
    assert report.cancelled and report.total == 5
    assert report.imported == 3 and db.records.ids() == ["N0", "N1", "N2"]
    assert "Cancelled after 3 of 5 item(s)." in str(report)
    again = import_records(source, db)
    assert not again.cancelled and again.imported == 2 and again.skipped == 3  # the first three are duplicates now
