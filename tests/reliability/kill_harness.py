"""Kill the work of :mod:`kill_driver` with SIGKILL at random moments and check what is left.

``run_kills(kind, kills, workdir, seed)`` prepares the data for ``kind``, then
``kills`` times: starts the driver, waits until it says ``ready``, lets it
work for a random (seeded) delay, kills it with SIGKILL, and checks the
invariants of that kind on what it left. Any broken invariant raises
AssertionError naming the kill and what was wrong. The figures come back as
a :class:`KindStats`.

Invariants (every kind first: ``PRAGMA integrity_check`` is ok and
``PRAGMA foreign_key_check`` finds nothing, read with a plain sqlite3
connection before the program opens the file):

* annotation: each record's annotation rows equal the ``after`` of its latest
  audit entry (import, save or verify), its status matches that entry, and
  there is exactly one correction per save/verify entry -- a save is all
  there or not at all.
* import: every record is exactly what its source line said (text, gold
  annotation rows, the photo's sha256), has exactly one import audit entry;
  every referenced image file exists with the hash it is named by; after the
  database is opened again (the orphan sweep) no image file is unreferenced
  and no ``.incoming-*`` temp file is left.
* structure: resuming (``done_ids``) leaves only whole lines, each valid JSON
  of an input record with valid spans, no id twice; at the end one more run
  completes the output with every input record exactly once.
* retrain: every registered model has its run ``succeeded`` (and the reverse),
  its bundle folder and manifest; at most one model is active; the gold set
  never changes once frozen; after ``recover_interrupted`` no run is left
  ``running`` and no folder under the models folder lacks a registered model.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tcm_desktop.domain import Record, Span, span_problems
from tcm_desktop.files import sha256_of
from tcm_desktop.store import Database, RetrainLedger
from tcm_desktop.store.images import INCOMING_PREFIX
from tcm_desktop.store.rows import annotation_dict

from .kill_driver import DB_NAME, KINDS, png_bytes

DRIVER = Path(__file__).with_name("kill_driver.py")
ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "models" / "tcm-text"
READY_TIMEOUT_S = 60.0
# (min, max) seconds the driver works after "ready" before the kill; the structure
# driver first spends ~0.3-0.5 s loading the model inside each `tcm structure` run.
DELAYS: dict[str, tuple[float, float]] = {
    "annotation": (0.0, 0.35),
    "import": (0.0, 0.5),
    "structure": (0.2, 1.6),
    "retrain": (0.0, 0.35),
}
GASTRO_TEXT = "腹泻3天，每日5~8次，舌淡红，苔薄白，脉细。"


@dataclass
class KindStats:
    kind: str
    kills: int = 0
    invariant_checks: int = 0  # individual assertions that held after the kills
    committed: int = 0  # units of work committed by the drivers in all (saves, records, lines, models)
    repaired: int = 0  # leftovers the program cleaned up (orphan files, cut lines, interrupted runs)
    notes: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "kills": self.kills,
            "invariant_checks": self.invariant_checks,
            "committed": self.committed,
            "repaired": self.repaired,
            **self.notes,
        }


class _Checker:
    """Counts the checks that held; raises with context on the first that does not."""

    def __init__(self, stats: KindStats, kill: int) -> None:
        self.stats = stats
        self.kill = kill

    def __call__(self, ok: bool, what: str) -> None:
        if not ok:
            raise AssertionError(f"{self.stats.kind}, after kill {self.kill}: {what}")
        self.stats.invariant_checks += 1


# --- preparing --------------------------------------------------------------------------------


def _gastro(record_id: str) -> Record:
    text = GASTRO_TEXT
    marks = (("腹泻", "SYM"), ("3天", "TIME"), ("每日5~8次", "FREQUENCY"), ("舌淡红", "TONGUE_BODY"), ("脉细", "PULSE"))
    spans = tuple(Span(text.index(p), text.index(p) + len(p), label, p) for p, label in marks)
    return Record(record_id, "gastro", text, spans=spans, form={"tongue_color": "淡红"})


def prepare(kind: str, workdir: Path, seed: int) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    if kind == "structure":
        texts = [
            "腹泻3天，每日5~8次，伴黏液脓血便。舌淡红，苔薄白，脉细。",
            "咳嗽3天，咳黄痰，无发热。舌红，苔黄腻，脉滑数。",
            "跌倒致右腕关节肿痛2小时，VAS评分6分。",
            "便血色鲜红，便后肛内肿物脱出。",
        ]
        rng = random.Random(seed)
        lines = [
            json.dumps({"id": f"S{n:04d}", "specialty": "general", "text": rng.choice(texts) * rng.randint(1, 4)})
            for n in range(240)
        ]
        (workdir / "structure_in.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return
    with Database.open(workdir / DB_NAME) as db:
        if kind == "import":
            (workdir / "shared.png").write_bytes(png_bytes(random.Random(seed)))
        elif kind in ("annotation", "retrain"):
            for n in range(12):
                db.records.add(_gastro(f"R{n:03d}"), who="prepare")
            if kind == "retrain":  # enough verified records for a gold set and a training set
                for rid in db.records.ids():
                    record = db.records.get(rid).record
                    db.annotations.save(rid, record.spans, record.form, "prepare", verify=True)


# --- killing ----------------------------------------------------------------------------------


def _driver_env() -> dict[str, str]:
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def kill_once(kind: str, workdir: Path, seed: int, delay: float) -> str:
    """Start the driver, wait for ``ready``, let it work ``delay`` seconds, SIGKILL it; its stderr."""
    out_path, err_path = workdir / "driver.out", workdir / "driver.err"
    with out_path.open("wb") as out, err_path.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, str(DRIVER), kind, str(workdir), str(seed)],
            stdout=out,
            stderr=err,
            cwd=workdir,
            env=_driver_env(),
        )
        try:
            deadline = time.monotonic() + READY_TIMEOUT_S
            while b"ready" not in out_path.read_bytes():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{kind} driver never got ready: {err_path.read_text(errors='replace')}")
                time.sleep(0.01)
            time.sleep(delay)
            if proc.poll() is not None:
                raise AssertionError(f"{kind} driver stopped by itself: {err_path.read_text(errors='replace')}")
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=30)
    return err_path.read_text(errors="replace")


def _database_intact(db_path: Path, check: _Checker) -> None:
    conn = sqlite3.connect(db_path)
    try:
        check(conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], "integrity_check is not ok")
        check(conn.execute("PRAGMA foreign_key_check").fetchall() == [], "foreign_key_check found rows")
    finally:
        conn.close()


# --- per-kind invariants ------------------------------------------------------------------------


def _check_annotation(workdir: Path, check: _Checker) -> None:
    with Database.open(workdir / DB_NAME) as db:
        conn = db.conn
        saves = 0
        for rid in db.records.ids():
            row = conn.execute(
                "SELECT action, after_json FROM audit_log"
                " WHERE record_id = ? AND action IN ('import', 'save', 'verify') ORDER BY id DESC LIMIT 1",
                (rid,),
            ).fetchone()
            check(row is not None, f"{rid} has no audit entry")
            action, after = row[0], json.loads(row[1])
            current = db.annotations.current(rid)
            check(current is not None, f"{rid} has no annotation row")
            assert current is not None
            expected = {k: after.get(k, {} if k != "spans" else []) for k in ("spans", "form", "form_evidence")}
            check(annotation_dict(*current) == expected, f"{rid}: the annotation rows differ from its last audit entry")
            status = db.records.get(rid).status.value
            want = {"import": "new", "save": "corrected", "verify": "verified"}[action]
            check(status == want, f"{rid}: status {status} after {action}")
            saves += conn.execute(
                "SELECT count(*) FROM audit_log WHERE record_id = ? AND action IN ('save', 'verify')", (rid,)
            ).fetchone()[0]
        corrections = conn.execute("SELECT count(*) FROM corrections").fetchone()[0]
        check(corrections == saves, f"{corrections} corrections for {saves} saves")
        orphaned = conn.execute(
            "SELECT count(*) FROM corrections c LEFT JOIN audit_log a ON a.id = c.audit_id"
            " WHERE a.id IS NULL OR a.record_id IS NOT c.record_id"
        ).fetchone()[0]
        check(orphaned == 0, f"{orphaned} corrections without their audit entry")
        check.stats.committed = saves


def _unreferenced(db_path: Path, images_dir: Path) -> list[Path]:
    conn = sqlite3.connect(db_path)
    try:
        referenced = {r[0] for r in conn.execute("SELECT image_file FROM records WHERE image_file IS NOT NULL")}
    finally:
        conn.close()
    if not images_dir.is_dir():
        return []
    return [p for p in images_dir.iterdir() if p.name not in referenced or p.name.startswith(INCOMING_PREFIX)]


def _check_import(workdir: Path, check: _Checker) -> None:
    db_path = workdir / DB_NAME
    leftovers = _unreferenced(db_path, workdir / f"{Path(DB_NAME).stem}_data" / "images")
    with Database.open(db_path) as db:
        check.stats.repaired += len(db.last_sweep.removed)
        check(len(db.last_sweep.removed) == len(leftovers), "the sweep did not remove every unreferenced file")
        check(_unreferenced(db_path, db.images_dir) == [], "unreferenced image files after opening")
        conn = db.conn
        for rid, source, sha, image_file, gold_json in conn.execute(
            "SELECT id, source, image_sha256, image_file, gold_json FROM records"
        ).fetchall():
            name, _, lineno = str(source).rpartition(":")
            jsonl = workdir / "incoming" / Path(name).stem / name
            line = json.loads(jsonl.read_text(encoding="utf-8").splitlines()[int(lineno) - 1])
            check(line["id"] == rid, f"{rid}: source {source} names {line['id']}")
            if "image" in line:
                photo = jsonl.parent / line["image"]
                check(sha == sha256_of(photo), f"{rid}: stored without the photo its line names")
                stored = db.images_dir / image_file
                check(stored.is_file() and sha256_of(stored) == sha, f"{rid}: image file missing or damaged")
            else:
                check(sha is None and image_file is None, f"{rid}: has an image its line does not name")
            current = db.annotations.current(rid)
            if "spans" in line:
                check(gold_json is not None and current is not None, f"{rid}: gold annotation missing")
                assert current is not None
                check([s.to_dict() for s in current[0]] == line["spans"], f"{rid}: annotation spans differ")
                check(current[1] == line["form"], f"{rid}: annotation form differs")
            else:
                check(gold_json is None and current is None, f"{rid}: has an annotation its line does not give")
            audits = conn.execute(
                "SELECT count(*) FROM audit_log WHERE record_id = ? AND action = 'import'", (rid,)
            ).fetchone()[0]
            check(audits == 1, f"{rid}: {audits} import audit entries")
        records = conn.execute("SELECT count(*) FROM records").fetchone()[0]
        imports = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'import'").fetchone()[0]
        check(records == imports, f"{imports} import audit entries for {records} records")
        check.stats.committed = records


def _structure_lines(workdir: Path, check: _Checker) -> set[str]:
    from tcm_desktop.batch_structure import done_ids

    source, out = workdir / "structure_in.jsonl", workdir / "structure_out.jsonl"
    wanted = {json.loads(line)["id"]: json.loads(line)["text"] for line in source.read_text("utf-8").splitlines()}
    if not out.exists():
        return set()
    before = out.stat().st_size
    ids = done_ids(out)  # what a resumed run does first: drop a line cut short
    check.stats.repaired += int(out.stat().st_size < before)
    lines = out.read_bytes().split(b"\n")
    check(lines[-1] == b"", "the output does not end with a whole line")
    seen: set[str] = set()
    for raw in lines[:-1]:
        row = json.loads(raw)
        record = Record.from_dict(row)
        check(record.id in wanted and record.text == wanted[record.id], f"line for {record.id} is not an input record")
        check(record.id not in seen, f"{record.id} written twice")
        check(span_problems(record.text, record.spans) == [], f"{record.id}: spans do not fit the text")
        seen.add(record.id)
    check(seen == ids, "done_ids differs from the lines")
    return seen


def _check_structure(workdir: Path, check: _Checker) -> None:
    check.stats.committed += len(_structure_lines(workdir, check))


def finish_structure(workdir: Path, check: _Checker) -> None:
    """One more `tcm structure` run, not killed: the output must then hold every input record once."""
    source, out = workdir / "structure_in.jsonl", workdir / "structure_out.jsonl"
    command = [sys.executable, "-m", "tcm_desktop.cli", "structure", "--in", str(source), "--out", str(out)]
    done = subprocess.run(
        [*command, "--no-image", "--threads", "1"], env=_driver_env(), capture_output=True, text=True, timeout=300
    )
    check(done.returncode == 0, f"the resumed run failed: {done.stderr[-2000:]}")
    wanted = {json.loads(line)["id"] for line in source.read_text("utf-8").splitlines()}
    check(_structure_lines(workdir, check) == wanted, "the resumed output does not hold every record once")


def _check_retrain(workdir: Path, check: _Checker) -> None:
    models_dir = workdir / "models"
    with Database.open(workdir / DB_NAME) as db:
        gold = tuple(db.gold_set.ids())
        frozen = check.stats.notes.setdefault("gold_set_size", len(gold))
        check(len(gold) == frozen, "the gold set changed")
        first = workdir / "gold_ids.json"
        if not first.exists() and gold:
            first.write_text(json.dumps(gold), encoding="utf-8")
        check(not gold or tuple(json.loads(first.read_text(encoding="utf-8"))) == gold, "the gold set changed")
        models = db.models.list()
        runs = db.training_runs.list()
        succeeded = {r.new_model: r for r in runs if r.status == "succeeded"}
        check(set(succeeded) == {m.version for m in models}, "registered models and succeeded runs differ")
        for model in models:
            manifest = json.loads((Path(model.path) / "manifest.json").read_text(encoding="utf-8"))
            check(f"{manifest['name']}@{manifest['version']}" == model.version, f"{model.version}: manifest differs")
        check(sum(m.active for m in models) <= 1, "more than one active model")
        ledger = RetrainLedger(db, models_dir, "checker")
        recovered = ledger.recover_interrupted()
        check.stats.repaired += len(recovered)
        check(all(r.status != "running" for r in db.training_runs.list()), "a run is still running")
        folders = {p.resolve() for p in models_dir.iterdir()} if models_dir.is_dir() else set()
        registered = {Path(m.path).resolve().parent for m in models}
        check(folders == registered, f"model folders without a registered model: {sorted(folders - registered)}")
        check.stats.committed = len(models)


CHECKS = {"annotation": _check_annotation, "import": _check_import, "structure": _check_structure}
CHECKS["retrain"] = _check_retrain


def run_kills(kind: str, kills: int, workdir: Path, seed: int) -> KindStats:
    """Prepare, then kill the ``kind`` driver ``kills`` times, checking after each (see the module docstring)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    rng = random.Random(seed)
    prepare(kind, workdir, seed)
    stats = KindStats(kind)
    low, high = DELAYS[kind]
    for n in range(1, kills + 1):
        kill_once(kind, workdir, rng.randrange(1 << 30), rng.uniform(low, high))
        stats.kills += 1
        check = _Checker(stats, n)
        if kind != "structure":
            _database_intact(workdir / DB_NAME, check)
        CHECKS[kind](workdir, check)
    if kind == "structure":
        finish_structure(workdir, _Checker(stats, kills))
    return stats
