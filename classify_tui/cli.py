"""Headless commands. Progress goes to stderr, results to stdout; torch loads only to train."""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from .core.errors import Cancelled, UserError
from .core.report import Report
from .core.stage_results import DownloadResult, ReviewResult, VerifyResult
from .core.stages import STAGES

RECIPE_OPTIONS = ("per_label", "arch", "weights", "size", "epochs", "device", "min_side", "folds", "repeats", "lr",
                  "batch_size", "review")


def cmd_build(args: argparse.Namespace) -> int:
    from .core.pipeline import BuildOptions, build
    from .core.recipes import apply_options, prepare
    from .core.rerun import plan_rerun

    ws, recipe = prepare(Path(args.datasets), args.labels, args.source, args.name)
    stored = ws.load_recipe() if ws.exists() else None  # before anything below changes it
    given = apply_options(recipe, {**{opt: getattr(args, opt) for opt in RECIPE_OPTIONS},
                                   "queries": args.query, "excludes": args.exclude})
    if args.weights and not Path(args.weights).is_file():
        raise UserError(f"--weights {args.weights}: no such file")

    # Options that differ from the stored recipe redo what they change, and say so: a re-run
    # must never save new options over results built with the old ones.
    plan = plan_rerun(ws, stored, recipe, args.from_stage, given)
    for opt in plan.ignored:
        print(f"classify-tui: {opt} is not used by the {recipe.source} source; ignored", file=sys.stderr)
    if plan.message():
        print(f"classify-tui: {plan.message()}", file=sys.stderr)

    from .progress import StderrReporter

    reporter = StderrReporter(force_plain=args.plain)
    opts = BuildOptions(stop_after=args.stop_after, from_stage=plan.from_stage, exports_dir=Path(args.exports))
    try:
        report = build(ws, recipe, reporter, opts)
    except KeyboardInterrupt:
        opts.cancel.set()
        raise
    finally:
        reporter.close()
    _print_summary(ws.root, report, stale="train" not in _stages_done(ws))
    return 0


def _stages_done(ws) -> set[str]:
    from .core.rerun import stages_done

    return stages_done(ws)


def _print_summary(root: Path, report: Report, stale: bool = False) -> None:
    print(f"workspace: {root}")
    verify, download = report.result(VerifyResult), report.result(DownloadResult)
    if verify:
        print(f"images: {verify.kept_total} kept ({json.dumps(verify.per_label)})")
    if download:
        print(f"download: {download.downloaded} fetched, {download.failed} failed")
    if report.error_rate is not None:
        print(f"error_rate: {report.error_rate:.4f} on {report.n_valid} validation images "
              f"({report.arch}, {report.device})"
              + (f"; with --tta {report.error_rate_tta:.4f}" if report.error_rate_tta is not None else "")
              + ("; from the previous training: the next full build retrains" if stale else ""))
    if report.most_confused:
        top = ", ".join(f"{a}->{b} x{n}" for a, b, n in report.most_confused[:3])
        print(f"most confused: {top}")
    if (root / "review.csv").exists() and report.result(ReviewResult):
        kinds = report.review_kinds
        found = ", ".join(f"{n} {k}" for k, n in kinds.items() if n and k != "ok") or "no issues found"
        print(f"review queue: {root / 'review.csv'} ({found})")
    if report.export_dir:
        print(f"exported: {report.export_dir}")


def cmd_apply(args: argparse.Namespace) -> int:
    from .core.cleaning import apply_decisions, read_decisions
    from .core.workspace import Workspace

    ws = Workspace(Path(args.datasets) / args.name)
    ws.load_recipe()
    result = apply_decisions(ws, read_decisions(Path(args.decisions)))
    print(f"applied {result.applied} changes ({result.summary()}); undo with: classify-tui undo {args.name}")
    print(f"retrain with: classify-tui build --name {args.name} --from train")
    return 0


def cmd_undo(args: argparse.Namespace) -> int:
    from .core.cleaning import undo_last
    from .core.workspace import Workspace

    ws = Workspace(Path(args.datasets) / args.name)
    ws.load_recipe()
    n = undo_last(ws)
    print(f"undid {n} changes")
    return 0


def cmd_predict(args: argparse.Namespace) -> int:
    from .core.predict import load_exported, load_runner, predict_images, predict_paths

    paths = [Path(p) for p in args.images]
    if args.runtime == "torch" and not args.tta:  # the stranger's path: timm's own transform
        items = predict_paths(load_exported(Path(args.export_dir)), paths)
    else:  # --runtime onnx imports neither torch nor timm
        runner = load_runner(Path(args.export_dir), args.runtime, Path(args.datasets))
        items = predict_images(runner, paths, tta=args.tta)
    failed = 0
    for item in items:
        if item.error:
            failed += 1
            print(f"classify-tui: {item.path}: {item.error}", file=sys.stderr)
            continue
        if args.json:
            print(json.dumps({"path": item.path, "label": item.label, "prob": item.prob, "probs": item.probs}))
        else:
            top = sorted(item.probs.items(), key=lambda kv: -kv[1])[: args.top]
            print(f"{item.path}\t" + "  ".join(f"{k} {v:.3f}" for k, v in top))
    return 1 if failed else 0


def cmd_export(args: argparse.Namespace) -> int:
    from .core.export import export_more
    from .core.workspace import Workspace

    ws = Workspace(Path(args.datasets) / args.name)
    ws.load_recipe()
    dest = export_more(ws, Path(args.exports), lambda ev: None, onnx=args.onnx)
    print(f"exported: {dest}")
    if args.onnx:
        print(f"onnx: {dest / 'model.onnx'} (classify-tui predict {dest} IMAGE --runtime onnx)")
    return 0


def cmd_space(args: argparse.Namespace) -> int:
    from .core.space import push_space, write_space

    space = write_space(Path(args.exports) / args.name, Path(args.datasets), examples=args.examples)
    print(f"space: {space} (try it: cd {space} && pip install -r requirements.txt gradio && python app.py)")
    if args.push:
        url = push_space(space, args.push)
        print(f"pushed: {url}")
    return 0


def no_terminal() -> str:
    """Why the terminal app cannot start here, or empty. Textual reads keys from stdin and draws
    on stderr; without both it would wait for input that never comes."""
    missing = [name for name, stream in (("stdin", sys.stdin), ("stderr", sys.stderr))
               if stream is None or not stream.isatty()]
    if not missing:
        return ""
    return f"{missing[0]} is not a terminal" if len(missing) == 1 else "stdin and stderr are not terminals"


def cmd_tui(args: argparse.Namespace) -> int:
    missing = no_terminal()
    if missing:
        print(f"classify-tui: the terminal app needs a terminal ({missing}); "
              "headless: classify-tui build, list, apply, predict", file=sys.stderr)
        return 2
    from .tui.app import run_app

    run_app(Path(args.datasets), Path(args.exports), args.name)
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    from .core.workspace import list_workspaces

    for ws in list_workspaces(Path(args.datasets)):
        rep = ws.load_report()
        err_s = f"{rep.error_rate:.3f}" if rep.error_rate is not None else "-"
        print(f"{ws.name}\t{','.join(rep.labels or ws.load_recipe().labels)}\terror {err_s}")
    return 0


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors: 'classify-tui: error: --epochs must be at least 1 (got 0)'."""

    def error(self, message: str):  # type: ignore[override]
        message = re.sub(r"^argument ([^:]*?)(?:/[^:]*)?: ", r"\1 ", message)
        self.exit(2, f"classify-tui: error: {message} (see {self.prog} --help)\n")


def number(kind: type, at_least: float, strictly: bool = False) -> Callable[[str], int | float]:
    """An argparse type: a number of ``kind`` that is at least (or above) ``at_least``."""

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a {'whole ' if kind is int else ''}number (got {text!r})") from None
        if value < at_least or (strictly and value == at_least):
            bound = f"greater than {at_least:g}" if strictly else f"at least {at_least:g}"
            raise argparse.ArgumentTypeError(f"must be {bound} (got {text})")
        return value

    parse.__name__ = kind.__name__
    return parse


def make_parser() -> argparse.ArgumentParser:
    p = Parser(prog="classify-tui", description=__doc__)
    p.add_argument("--datasets", default="datasets", help="folder of workspaces (default: ./datasets)")
    p.add_argument("--exports", default="exports", help="folder of exported models (default: ./exports)")
    sub = p.add_subparsers(dest="command")

    b = sub.add_parser("build", help="search, download, verify, train, review and export")
    b.add_argument("--labels", help="comma-separated labels, e.g. bird,kitten,puppy")
    b.add_argument("--source", help="ddg (default), folder:PATH, urls:FILE, digits, mnist")
    b.add_argument("--name", help="workspace name under datasets/ (default: from labels/source)")
    b.add_argument("--per-label", type=number(int, 1), dest="per_label",
                   help="images to aim for per label (ddg, mnist)")
    b.add_argument("--query", action="append", help='query template, repeatable (default "{label} photo" ...)')
    b.add_argument("--exclude", action="append", help="negative search word, repeatable")
    b.add_argument("--stop-after", dest="stop_after", choices=STAGES, default="export")
    b.add_argument("--from", dest="from_stage", choices=STAGES,
                   help="re-run from this stage (changed options pick the stage themselves)")
    b.add_argument("--arch", help="timm model name (default tf_efficientnet_lite0, works offline)")
    b.add_argument("--weights", help="local .safetensors checkpoint for --arch")
    b.add_argument("--size", type=number(int, 32), help="training image size in pixels, at least 32 (squish)")
    b.add_argument("--epochs", type=number(int, 1), help="training epochs, at least 1")
    b.add_argument("--lr", type=number(float, 0, strictly=True), help="learning rate (default: measured per backbone)")
    b.add_argument("--batch-size", type=number(int, 1), dest="batch_size")
    b.add_argument("--device", help="auto, cpu, cuda, cuda:1, mps")
    b.add_argument("--min-side", type=number(int, 1), dest="min_side", help="reject images smaller than this")
    b.add_argument("--review", choices=("fast", "thorough"),
                   help="fast (default): review scores from the one training run; thorough: also train "
                        "--folds x --repeats cross-validation models so no image is scored by a network that saw it")
    b.add_argument("--folds", type=number(int, 2), help="thorough review: cross-validation folds (default 3)")
    b.add_argument("--repeats", type=number(int, 1), help="thorough review: independent rounds averaged (default 2)")
    b.add_argument("--plain", action="store_true", help="plain progress lines even on a TTY")
    b.set_defaults(func=cmd_build)

    a = sub.add_parser("apply", help="apply review decisions (path,action[,label]) through the journal")
    a.add_argument("name")
    a.add_argument("decisions")
    a.set_defaults(func=cmd_apply)

    u = sub.add_parser("undo", help="reverse the last apply")
    u.add_argument("name")
    u.set_defaults(func=cmd_undo)

    pr = sub.add_parser("predict", help="classify images with an exported model")
    pr.add_argument("export_dir")
    pr.add_argument("images", nargs="+")
    pr.add_argument("--json", action="store_true")
    pr.add_argument("--top", type=number(int, 1), default=3)
    pr.add_argument("--runtime", choices=("torch", "onnx"), default="torch",
                    help="torch (default) or onnx: model.onnx through onnxruntime, without importing torch")
    pr.add_argument("--tta", action="store_true",
                    help="test-time augmentation: average the plain view with cropped and flipped views "
                         "(no flips where training used none, e.g. digits)")
    pr.set_defaults(func=cmd_predict)

    ex = sub.add_parser("export", help="export a workspace's trained model to exports/NAME (safetensors, ONNX)")
    ex.add_argument("name")
    ex.add_argument("--onnx", action="store_true", help="also write model.onnx (dynamic batch) for onnxruntime")
    ex.set_defaults(func=cmd_export)

    sp = sub.add_parser("space", help="write exports/NAME/space/, a Gradio app for a Hugging Face Space")
    sp.add_argument("name")
    sp.add_argument("--examples", type=number(int, 0), default=4, help="validation images to include (default 4)")
    sp.add_argument("--push", metavar="REPO", help="upload to the Space REPO (user/name) with huggingface_hub; "
                                                   "needs a token (HF_TOKEN or huggingface-cli login)")
    sp.set_defaults(func=cmd_space)

    t = sub.add_parser("tui", help="open the terminal app (on a workspace, if named)")
    t.add_argument("name", nargs="?")
    t.set_defaults(func=cmd_tui)

    ls = sub.add_parser("list", help="list workspaces")
    ls.set_defaults(func=cmd_list)
    return p


def main(argv: list[str] | None = None) -> int:
    from .core.quiet import quiet_library_warnings

    quiet_library_warnings()
    parser = make_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        return cmd_tui(argparse.Namespace(datasets=args.datasets, exports=args.exports, name=None))
    try:
        return args.func(args)
    except UserError as exc:
        print(f"classify-tui: error: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Cancelled):
        print("classify-tui: interrupted; run the same command again to resume", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
