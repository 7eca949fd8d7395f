"""The ``tcm`` command: everything that is not the GUI.

Exit status: 0 done, 1 done but some input was reported and skipped,
2 nothing done (bad arguments or an error that stopped the command).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tcm_desktop.domain import TcmError

EXIT_OK, EXIT_WITH_ISSUES, EXIT_FAILED = 0, 1, 2
DEFAULT_RULES_SHOWN = 50

# Commands that live in the training module (importable without the GUI); they
# parse their own arguments. "module:function" taking argv and returning a status.
DELEGATED = {
    "train": ("training.cli:train_main", "train the text tagger (torch; the 'train' extra)"),
    "pretrain": ("training.pretrain:pretrain_main", "MLM-pretrain the encoder on unlabelled text"),
    "predict": ("training.cli:predict_main", "predict spans with a PyTorch checkpoint"),
    "describe-model": ("training.cli:describe_main", "print what a checkpoint says about itself"),
    "export-model": ("training.bundle:export_model_main", "build a model bundle (INT8 ONNX, manifest)"),
    "evaluate": ("training.evaluation:evaluate_main", "score predictions against gold (strict spans, form fields)"),
    "train-tongue": ("training.tongue.train:train_tongue_main", "train the tongue segmenter or attribute classifier"),
    "evaluate-tongue": ("training.tongue.evaluate:evaluate_tongue_main", "score the tongue models on the test split"),
    "prune-tongue": (
        "training.tongue.prune:prune_tongue_main",
        "prune the tongue classifier to a memory budget (L1 or LSTM + REINFORCE), then fine-tune",
    ),
    "export-image-model": (
        "training.tongue.export:export_image_model_main",
        "export the tongue models (INT8 ONNX) into a model bundle",
    ),
    "bench": ("training.cli:bench_main", "runtime benchmark: INT8 pipeline vs FP32 and BERT-Large in PyTorch"),
}


class _Progress:
    """A tqdm bar on stderr, created on the first report (tqdm is optional at run time)."""

    def __init__(self, description: str) -> None:
        self._description = description
        self._bar = None

    def __call__(self, done: int, total: int) -> None:
        if self._bar is None:
            try:
                from tqdm import tqdm
            except ImportError:  # the bar is a nicety, never a reason to fail
                return
            # disable=None: no bar when stderr is not a terminal (logs, CI)
            self._bar = tqdm(total=total, desc=self._description, unit="rec", file=sys.stderr, disable=None)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def _cmd_demo(args: argparse.Namespace) -> int:
    from tcm_desktop.demo.corpus import write_demo_corpus

    if args.n < 1:
        print("tcm demo: --n must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    progress = _Progress("generating")
    try:
        summary = write_demo_corpus(args.n, Path(args.out), seed=args.seed, on_progress=progress)
    finally:
        progress.close()
    print(summary)
    return EXIT_OK


def _cmd_import(args: argparse.Namespace) -> int:
    from tcm_desktop.store import Database, import_records

    progress = _Progress("importing")
    with Database.open(Path(args.db), check=True) as db:
        try:
            report = import_records(Path(args.file), db, who=args.who, on_progress=progress, deidentify=args.deidentify)
        finally:
            progress.close()
    print(report)
    return EXIT_WITH_ISSUES if report.issues else EXIT_OK


def _cmd_export(args: argparse.Namespace) -> int:
    from tcm_desktop.store import Database, export_records

    db_path = Path(args.db)
    if not db_path.is_file():
        print(f"tcm export: no database at {db_path}", file=sys.stderr)
        return EXIT_FAILED
    with Database.open(db_path, check=True) as db:
        count = export_records(db, args.format, Path(args.out), deidentify=not args.no_deidentify)
    masked = "" if args.no_deidentify else "; names, ID numbers, phone numbers and addresses masked"
    print(f"exported {count} records to {args.out} ({args.format}{masked})")
    return EXIT_OK


def _cmd_backup(args: argparse.Namespace) -> int:
    from tcm_desktop.store.backup import backup_database, backups_dir, list_backups

    db_path = Path(args.db)
    if not db_path.is_file():
        print(f"tcm backup: no database at {db_path}", file=sys.stderr)
        return EXIT_FAILED
    folder = Path(args.to) if args.to else backups_dir(db_path)
    if args.list:
        for backup in list_backups(folder, db_path.resolve().stem):
            print(f"{backup.path}\t{backup.created.isoformat(timespec='seconds')}\t{backup.size} bytes")
        return EXIT_OK
    if args.keep < 1:
        print("tcm backup: --keep must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    backup = backup_database(db_path, folder, keep=args.keep)
    print(f"backed up {db_path} to {backup.path} ({backup.size} bytes, integrity_check ok)")
    return EXIT_OK


def _cmd_restore(args: argparse.Namespace) -> int:
    from tcm_desktop.store.backup import restore_database

    source = Path(args.source)
    if not source.is_file():
        print(f"tcm restore: no backup file {source}", file=sys.stderr)
        return EXIT_FAILED
    result = restore_database(Path(args.db), source)
    print(f"restored {result.database} from {result.restored_from}")
    if result.safety_copy is not None:
        print(f"the database it replaced is kept as {result.safety_copy}")
    return EXIT_OK


def _cmd_audit(args: argparse.Namespace) -> int:
    from tcm_desktop.store import Database

    db_path = Path(args.db)
    if not db_path.is_file():
        print(f"tcm audit: no database at {db_path}", file=sys.stderr)
        return EXIT_FAILED
    with Database.open(db_path, check=True) as db:
        report = db.audit.verify()
    if report.ok:
        print(report)
        return EXIT_OK
    print(f"tcm audit verify: {db_path}: {report}", file=sys.stderr)
    return EXIT_WITH_ISSUES


def _cmd_structure(args: argparse.Namespace) -> int:
    from tcm_desktop.batch_structure import structure_file
    from tcm_desktop.inference.structuring import Structurer
    from tcm_desktop.resources import default_bundle_dir

    if args.threads < 1:
        print("tcm structure: --threads must be at least 1", file=sys.stderr)
        return EXIT_FAILED
    source, out = Path(args.input), Path(args.out)
    if source.resolve() == out.resolve():
        print("tcm structure: --out must not be the input file", file=sys.stderr)
        return EXIT_FAILED
    model = Path(args.model) if args.model else default_bundle_dir()
    structurer = Structurer.load(model, threads=args.threads, use_image=not args.no_image)
    progress = _Progress("structuring")
    try:
        report = structure_file(source, out, structurer, use_image=not args.no_image, on_progress=progress)
    except KeyboardInterrupt:
        print(f"\ntcm structure: stopped; finished records are in {out}, run again to resume", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.close()
    print(report)
    print(f"model {structurer.model_version}; output {out}")
    return EXIT_WITH_ISSUES if report.issues else EXIT_OK


def _item_kinds(text: str | None, option: str) -> frozenset[Any] | None:
    """``syndrome,symptom`` -> the kinds; ``any`` or nothing -> None (every kind)."""
    from tcm_desktop.mining import ItemKind, MiningError

    if text is None or text.strip().lower() in ("", "any"):
        return None
    kinds = set()
    for word in (w.strip().lower() for w in text.split(",")):
        try:
            kinds.add(ItemKind(word))
        except ValueError as exc:
            known = ", ".join(k.value for k in ItemKind)
            raise MiningError(f"{option}: unknown item kind {word!r} (use any, or some of: {known})") from exc
    return frozenset(kinds)


def _cmd_rules(args: argparse.Namespace) -> int:
    import json

    from tcm_desktop.mining import RuleOrder, RuleQuery, mine_rules
    from tcm_desktop.mining.report import rules_table
    from tcm_desktop.mining_data import RecordSource, load_statistics, load_transactions
    from tcm_desktop.store import Database

    db_path = Path(args.db)
    if not db_path.is_file():
        print(f"tcm rules: no database at {db_path}", file=sys.stderr)
        return EXIT_FAILED
    query = RuleQuery(
        min_support=args.min_support,
        min_confidence=args.min_confidence,
        max_length=args.max_length,
        antecedent_kinds=_item_kinds(args.antecedent, "--antecedent"),
        consequent_kinds=_item_kinds(args.consequent, "--consequent"),
    )
    problems = query.problems() + ([] if args.limit is None or args.limit >= 1 else ["--limit must be at least 1"])
    if problems:
        print("tcm rules: " + "; ".join(problems), file=sys.stderr)
        return EXIT_FAILED
    source = RecordSource(args.source)
    with Database.open(db_path) as db:
        transactions = load_transactions(db, source)
        statistics = load_statistics(db, source) if args.plots else None
    result = mine_rules(transactions, query, order=RuleOrder(args.sort))
    if not transactions:
        hint = " (try --source annotated or --source predicted)" if source is RecordSource.VERIFIED else ""
        print(f"tcm rules: no {source.value} records in {db_path}{hint}", file=sys.stderr)
    if args.json:
        out = {"database": str(db_path), "source": source.value, **result.to_dict()}
        if args.limit is not None:
            out["rules"] = out["rules"][: args.limit]
        print(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        print(rules_table(result, limit=args.limit if args.limit is not None else DEFAULT_RULES_SHOWN))
    if statistics is not None:
        from tcm_desktop.mining.plots import PLOTS, save_png

        folder = Path(args.plots)
        folder.mkdir(parents=True, exist_ok=True)
        for name, (_, build) in PLOTS.items():
            path = save_png(build(statistics), folder / f"{name}.png")
            print(f"wrote {path}", file=sys.stderr)
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tcm", description="TCM Desktop command line (the GUI is tcm-desktop).")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="generate demo records with gold spans, forms and tongue images")
    demo.add_argument("--n", type=int, required=True, help="number of records")
    demo.add_argument("--out", required=True, help="output JSONL file; images go to <stem>_images/ beside it")
    demo.add_argument("--seed", type=int, default=0, help="random seed (same seed, same corpus)")
    demo.set_defaults(handler=_cmd_demo)

    imp = commands.add_parser("import", help="import records (JSONL, JSON, CSV, BIO, or a folder of .txt)")
    imp.add_argument("file", help="file or folder to import")
    imp.add_argument("--db", required=True, help="database file (created if missing)")
    imp.add_argument("--who", default="import", help="name recorded in the audit log")
    imp.add_argument(
        "--deidentify", action="store_true", help="mask names, ID-card numbers, phone numbers and addresses"
    )
    imp.set_defaults(handler=_cmd_import)

    exp = commands.add_parser("export", help="export records with their current annotation")
    exp.add_argument("--db", required=True, help="database file")
    exp.add_argument("--format", choices=["jsonl", "json", "csv", "bio"], default="jsonl")
    exp.add_argument("--out", required=True, help="output file")
    exp.add_argument(
        "--no-deidentify",
        action="store_true",
        help="write names, ID-card numbers, phone numbers and addresses as stored (masked by default)",
    )
    exp.set_defaults(handler=_cmd_export)

    bk = commands.add_parser("backup", help="write a verified backup of the database (SQLite backup API)")
    bk.add_argument("--db", required=True, help="database file")
    bk.add_argument("--to", help="backup folder (default: backups in the database's data folder)")
    bk.add_argument("--keep", type=int, default=10, help="backups kept in the folder, oldest removed (default 10)")
    bk.add_argument("--list", action="store_true", help="list the backups in the folder, newest first")
    bk.set_defaults(handler=_cmd_backup)

    rs = commands.add_parser("restore", help="replace the database by a backup (the replaced file is kept)")
    rs.add_argument("--db", required=True, help="database file to replace")
    rs.add_argument("--from", dest="source", required=True, help="backup file (checked before anything changes)")
    rs.set_defaults(handler=_cmd_restore)

    au = commands.add_parser("audit", help="check the audit log")
    au_commands = au.add_subparsers(dest="audit_command", required=True, metavar="ACTION")
    verify = au_commands.add_parser("verify", help="recompute the hash chain; exit 1 naming a changed or deleted row")
    verify.add_argument("--db", required=True, help="database file")
    verify.set_defaults(handler=_cmd_audit)

    st = commands.add_parser("structure", help="structure records with the model (spans, form, tongue), resumable")
    st.add_argument("--in", dest="input", required=True, help="JSONL, JSON, CSV or a folder of .txt records")
    st.add_argument("--out", required=True, help="output JSONL; an existing one is resumed (its ids are skipped)")
    st.add_argument("--model", help="model bundle folder (default: the shipped bundle)")
    st.add_argument("--no-image", action="store_true", help="ignore tongue photos (text only)")
    st.add_argument("--threads", type=int, default=2, help="ONNX Runtime threads (default 2)")
    st.set_defaults(handler=_cmd_structure)

    ru = commands.add_parser("rules", help="association rules between syndromes, symptoms, tongue, pulse and herbs")
    ru.add_argument("--db", required=True, help="database file")
    ru.add_argument(
        "--source",
        choices=["verified", "annotated", "predicted"],
        default="verified",
        help="records to mine: verified (default), every annotated record, or the latest model predictions",
    )
    ru.add_argument("--min-support", type=float, default=0.05, help="least share of records with the rule (0-1]")
    ru.add_argument("--min-confidence", type=float, default=0.5, help="least confidence of a rule [0-1]")
    ru.add_argument("--max-length", type=int, default=2, help="most items in a rule, 2-5 (default 2)")
    ru.add_argument("--antecedent", help="item kinds allowed on the left, e.g. syndrome (default any)")
    ru.add_argument("--consequent", help="item kinds allowed on the right, e.g. symptom,sign (default any)")
    ru.add_argument("--sort", choices=["confidence", "lift", "support"], default="confidence")
    ru.add_argument("--limit", type=int, help=f"rules to print (table default {DEFAULT_RULES_SHOWN}, JSON all)")
    ru.add_argument("--json", action="store_true", help="print the rules as JSON")
    ru.add_argument("--plots", help="also save the statistics plots as PNG into this folder")
    ru.set_defaults(handler=_cmd_rules)

    for name, (_, help_text) in DELEGATED.items():
        commands.add_parser(name, help=help_text, add_help=False)
    return parser


def _run_delegated(name: str, argv: Sequence[str]) -> int:
    import importlib

    module_name, function_name = DELEGATED[name][0].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        print(f"tcm {name}: the training module is not installed ({exc}); install the 'train' extra", file=sys.stderr)
        return EXIT_FAILED
    return int(getattr(module, function_name)(list(argv)))


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    from tcm_desktop.store.log_privacy import install_log_privacy

    install_log_privacy()
    if argv and argv[0] in DELEGATED:
        return _run_delegated(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except TcmError as exc:
        print(f"tcm {args.command}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:
        print(f"tcm {args.command}: {exc.strerror or exc} ({exc.filename or ''})", file=sys.stderr)
        return EXIT_FAILED
    except sqlite3.Error as exc:  # a database fault the store did not expect: words, not a traceback
        print(f"tcm {args.command}: database error: {exc}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
