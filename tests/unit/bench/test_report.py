from __future__ import annotations

from pathlib import Path

from bench.report import update_section


def test_sections_are_added_then_replaced_whole(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    update_section("a", "## A\n\nfirst", doc)
    update_section("b", "## B\n\nother", doc)
    update_section("a", "## A\n\nsecond", doc)
    text = doc.read_text(encoding="utf-8")
    assert text.startswith("# Benchmarks")
    assert "second" in text and "first" not in text and "other" in text
    assert text.count("<!-- BEGIN a -->") == 1 and text.index("BEGIN a") < text.index("BEGIN b")
    assert "machine:" in text
