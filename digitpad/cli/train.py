"""``digitpad train``: train a model (or k-fold cross-validate); Ctrl-C stops and saves."""

from __future__ import annotations

import argparse
import threading
from pathlib import Path
from typing import IO, Any

from digitpad.cli.argtypes import (
    epochs,
    kfold_k,
    learning_rate,
    nonempty,
    positive_int,
    seed,
    val_split,
)
from digitpad.cli.exits import EXIT_ERROR, EXIT_INTERRUPTED, EXIT_OK, PROG, one_line
from digitpad.cli.outpath import check_out_path, default_out
from digitpad.cli.progress import ProgressPrinter
from digitpad.cli.quiet import quiet_tensorflow
from digitpad.cli.render import fmt_duration, fmt_metric, fmt_percent
from digitpad.cli.sigint import StopOnSigint
from digitpad.cli.terminal_text import shown
from digitpad.core.errors import DigitpadError
from digitpad.core.training import OPTIMIZERS, SCHEDULES
from digitpad.core.training.config import AUGMENT_MODES, augment_mode

DESCRIPTION = (
    "Train a model on MNIST (or another data source) and save it. Shows a progress bar with ETA "
    "on a terminal and a line per epoch. Ctrl-C stops at the end of the current batch, keeps the "
    "weights trained so far, saves them to --out and exits with status 130. Every run (k-fold "
    "too) is added to the run history."
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    """Register ``train`` and its options."""
    t = sub.add_parser("train", help="train a model and save it", description=DESCRIPTION)
    add = t.add_argument
    add(
        "--arch",
        type=nonempty,
        default=None,
        metavar="NAME",
        help="architecture (see `digitpad archs`; default: fast, or the --model file's)",
    )
    add(
        "--model",
        type=nonempty,
        metavar="PATH",
        help="train further a saved model (.keras continues with its saved optimizer state; "
        ".h5 with a fresh optimizer)",
    )
    add("--epochs", type=epochs, metavar="N", help="epochs (default: the architecture's)")
    add(
        "--batch-size",
        type=positive_int,
        metavar="N",
        help="batch size (default: the architecture's)",
    )
    add(
        "--optimizer",
        choices=OPTIMIZERS,
        type=str.lower,
        help="optimizer (default: the architecture's)",
    )
    add(
        "--lr", type=learning_rate, metavar="X", help="learning rate (default: the architecture's)"
    )
    add(
        "--schedule",
        choices=SCHEDULES,
        type=str.lower,
        help="learning-rate schedule (default: the architecture's)",
    )
    add(
        "--augment",
        choices=AUGMENT_MODES,
        type=str.lower,
        default=None,
        help="augmentation of the training images: none; mnist (random shifts, rotations, "
        "zoom); drawn (pad-like strokes: stroke width, rotation, slant, stretch, elastic "
        "distortion) (default: the architecture's: drawn for best, none for fast)",
    )
    add(
        "--no-augment",
        dest="augment",
        action="store_const",
        const="none",
        help="the same as --augment none",
    )
    add(
        "--val-split",
        type=val_split,
        default=0.1,
        metavar="F",
        help="validation fraction, 0 to 0.5 (default: 0.1; 0 for none)",
    )
    add(
        "--kfold",
        type=kfold_k,
        metavar="K",
        help="run K-fold cross-validation instead (prints per-fold accuracy; saves nothing)",
    )
    add(
        "--data",
        type=nonempty,
        action="append",
        metavar="SOURCE",
        help="mnist (bundled, default), keras, an .npz file, an IDX folder "
        "or a 0/..9/ image folder; repeat to train on several at once "
        "(--data mnist --data FOLDER)",
    )
    add("--device", type=nonempty, default="auto", metavar="DEV", help="cpu, gpu, gpu:N or auto (default)")
    add(
        "--seed", type=seed, default=0, metavar="N", help="random seed, 0 to 2**32-1 (default: 0)"
    )
    add(
        "--limit",
        type=positive_int,
        metavar="N",
        help="train on a random subset of N training images",
    )
    add(
        "--test-limit",
        type=positive_int,
        metavar="N",
        help="test on a random subset of N test images",
    )
    add(
        "--out",
        type=nonempty,
        metavar="PATH",
        help="where to save the model, .keras or .h5 (default: ./digitpad-<arch>-<date>.keras)",
    )


# -- settings --------------------------------------------------------------------------------------


def train_config(args: argparse.Namespace) -> Any:
    """The :class:`~digitpad.core.training.TrainConfig` the options describe."""
    from digitpad.core.training import TrainConfig

    return TrainConfig(
        arch=args.arch,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.lr,
        schedule=args.schedule,
        val_split=args.val_split,
        augment=args.augment,
        seed=args.seed,
        device=args.device,
        data=" + ".join(args.data) if args.data else None,
        train_limit=args.limit,
        test_limit=args.test_limit,
    )


def describe_config(cfg: Any) -> str:
    """The resolved settings on one line (architecture, epochs, optimizer, ...)."""
    return (
        f"{cfg.arch}: {cfg.epochs} epoch(s), batch {cfg.batch_size}, {cfg.optimizer} "
        f"lr {cfg.learning_rate:g} ({cfg.schedule}), augmentation {augment_mode(cfg.augment)}, "
        f"validation {cfg.val_split:g}, seed {cfg.seed}"
    )


def _resolve_arch(args: argparse.Namespace) -> Path | None:
    """Fill ``args.arch`` (the --model file's architecture, else fast); return the --model path."""
    from digitpad.core.archs import ARCHS, get_arch

    base = None
    if args.model:
        if args.kfold:
            raise DigitpadError(
                "--kfold trains new models for each fold; it cannot start from --model."
            )
        from digitpad.core.modelfile import read_metadata

        base = Path(args.model).expanduser()
        if (
            args.arch is None
        ):  # defaults (epochs, optimizer, ...) of the architecture it was made with
            arch = str(read_metadata(base).get("arch") or "")
            args.arch = arch if arch in ARCHS else None
    if args.arch is None:
        args.arch = "fast"
    get_arch(args.arch)  # unknown name -> ArchitectureError listing the valid ones, before TF work
    return base


# -- the command -----------------------------------------------------------------------------------


def run(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Train (or k-fold cross-validate) from the command line."""
    base = _resolve_arch(args)
    out_path: Path | None = None
    if args.kfold:
        if args.out:
            print(
                f"{PROG}: note: k-fold cross-validation only measures accuracy; nothing is saved "
                f"(--out {shown(args.out)} is ignored).",
                file=err,
            )
    else:
        out_path = check_out_path(
            Path(args.out).expanduser() if args.out else default_out(args.arch)
        )

    quiet_tensorflow()
    config = train_config(args)
    resolved = config.resolved()  # TrainingError for impossible settings, before data/TF

    from digitpad.core.data.combine import load_datasets
    from digitpad.core.tfsetup import describe_device, resolve_device

    device = describe_device(resolve_device(args.device))  # DeviceError: gpu asked, none present
    dataset = load_datasets(args.data)
    n_train = len(dataset.x_train) if args.limit is None else min(args.limit, len(dataset.x_train))
    print(f"device: {device}", file=out)
    print(f"data: {shown(dataset.source)}; training on {n_train} images", file=out)
    print(f"config: {describe_config(resolved)}", file=out, flush=True)
    if args.kfold:
        return _run_kfold(config, args.kfold, dataset, out, err)
    return _run_training(config, dataset, base, out_path, out, err)


def _run_training(
    config: Any, dataset: Any, base: Path | None, out_path: Path, out: IO[str], err: IO[str]
) -> int:
    """One run through a recorded :class:`~digitpad.core.training.TrainingSession`; then save."""
    from digitpad.core.modelfile import save_model
    from digitpad.core.training import RunStatus, TrainingSession

    model = None
    if base is not None:
        from digitpad.core.modelfile import load_model

        loaded = load_model(base)
        model = loaded.model
        adapted = f" (adapted: {'; '.join(loaded.adaptations)})" if loaded.adaptations else ""
        print(f"continuing from: {shown(loaded.path)}{shown(adapted)}", file=out, flush=True)
    printer = ProgressPrinter(out, err)
    session = TrainingSession(config, dataset=dataset, model=model, on_progress=printer)
    if printer.tty:
        printer.note("training… (Ctrl-C stops and saves the weights trained so far)")
    with StopOnSigint(session.request_stop, printer.note_from_signal) as guard:
        result = session.run()  # a failed run is recorded, then raises (one error sentence)
        printer.clear()
        if result.status is RunStatus.DIVERGED:
            return _report_divergence(result, out_path, err)
        if result.status is RunStatus.STOPPED:
            print(result.reason, file=out)
        _report_result(result, out)
        saved = save_model(result.model, out_path, metadata=result.metadata())
        print(f"saved model to {shown(Path(saved).resolve())}", file=out, flush=True)
    stopped = result.status is RunStatus.STOPPED or guard.interrupted
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def _report_divergence(result: Any, out_path: Path, err: IO[str]) -> int:
    """A diverged run: keep the last good epoch's weights when there is one; exit 1 either way."""
    from digitpad.core.modelfile import save_model

    reason = one_line(result.reason).rstrip(".")
    if not result.epochs_done:
        print(
            f"{PROG}: error: training stopped: {reason}; nothing was saved "
            "(try a lower learning rate).",
            file=err,
            flush=True,
        )
        return EXIT_ERROR
    saved = save_model(result.model, out_path, metadata=result.metadata())
    epoch = result.restored_epoch or result.epochs_done
    print(
        f"{PROG}: error: training stopped: {reason}; the weights of epoch {epoch} were saved "
        f"to {shown(Path(saved).resolve())}.",
        file=err,
        flush=True,
    )
    return EXIT_ERROR


def _report_result(result: Any, out: IO[str]) -> None:
    print(f"device used: {result.device}", file=out)
    if result.best_epoch:
        restored = " (its weights were restored)" if result.restored_epoch else ""
        print(f"best validation epoch: {result.best_epoch}{restored}", file=out)
    if result.test_accuracy is not None:
        loss = f" (loss {fmt_metric(result.test_loss)})" if result.test_loss is not None else ""
        print(f"test accuracy: {fmt_percent(result.test_accuracy)}{loss}", file=out)
    else:
        print("test accuracy: not measured (the data has no test split)", file=out)
    print(f"training time: {fmt_duration(result.elapsed)}", file=out, flush=True)


def _run_kfold(config: Any, k: int, dataset: Any, out: IO[str], err: IO[str]) -> int:
    """k-fold cross-validation through the recorded :func:`~digitpad.core.training.run_kfold`."""
    from digitpad.core.training import RunStatus, run_kfold

    stop_event = threading.Event()
    printer = ProgressPrinter(out, err)
    notice = "stopping after the current batch (nothing is saved)…"
    with StopOnSigint(stop_event.set, printer.note_from_signal, first_notice=notice) as guard:
        result = run_kfold(config, k, dataset=dataset, on_progress=printer, stop_event=stop_event)
    printer.clear()
    accs = list(result.accuracies)
    for n, acc in enumerate(accs, start=1):
        print(f"fold {n}/{k}: accuracy {fmt_percent(acc)}", file=out)
    if accs:
        print(
            f"k-fold accuracy: {100 * result.mean:.2f} % ± {100 * result.std:.2f} % "
            f"(mean ± std over {len(accs)} fold(s))",
            file=out,
            flush=True,
        )
    if result.status is RunStatus.DIVERGED:
        print(
            f"{PROG}: error: k-fold cross-validation stopped: "
            f"{one_line(result.reason).rstrip('.')}.",
            file=err,
            flush=True,
        )
        return EXIT_ERROR
    if result.status is RunStatus.STOPPED or guard.interrupted:
        print(f"stopped by user after {len(accs)} of {k} fold(s)", file=out, flush=True)
        return EXIT_INTERRUPTED
    return EXIT_OK
