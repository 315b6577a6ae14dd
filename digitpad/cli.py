"""The ``digitpad`` command line.

``digitpad`` with no arguments (or ``digitpad gui``) opens the desktop app. Subcommands::

    digitpad train     train a model (progress bar with ETA, a line per epoch, Ctrl-C stops and saves)
    digitpad evaluate  accuracy, loss, per-class accuracy and confusion matrix of a model
    digitpad predict   recognise digits in image files
    digitpad info      what is inside a model file
    digitpad archs     the registered architectures

Exit status: 0 success; 1 an error (printed as ``digitpad: error: <reason>``, never a traceback
unless ``DIGITPAD_DEBUG=1``), or at least one image in ``predict`` could not be read; 2 a usage
error; 130 interrupted by Ctrl-C (for ``train``: after the weights trained so far were saved).

TensorFlow is imported only by the subcommands that need it, so ``--help`` and ``--version``
answer at once.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as _dt
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from digitpad import __version__
from digitpad.core.errors import DigitpadError, ModelFileError
from digitpad.core.formatting import format_duration
from digitpad.core.tfsetup import debug_enabled
from digitpad.core.tfsetup import stderr_silenced as _stderr_silenced

PROG = "digitpad"
EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

LITERT_MIN_IMAGES = 100  # predict: above this many images, let Predictor try LiteRT

GUI_MISSING = "digitpad: the desktop app is not available yet; use a subcommand (see digitpad --help)"


class CommandFailed(Exception):
    """Raised by a subcommand that already printed what went wrong; carries the exit status."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


# --------------------------------------------------------------------------------------------
# quiet TensorFlow / warnings


def _quiet_environment() -> None:
    """Keep TensorFlow's C++ logging and Python warnings off the terminal (before TF loads)."""
    if debug_enabled():
        return
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ["ABSL_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    os.environ.setdefault("GLOG_minloglevel", "3")
    warnings.simplefilter("ignore")


def _quiet_tensorflow() -> None:
    """Silence the Python-side loggers of TensorFlow/absl once TensorFlow is imported."""
    if debug_enabled():
        return
    import logging

    from digitpad.core.tfsetup import tf

    # TensorFlow 2.21 writes absl "I0000 ..." lines straight to file descriptor 2 while it loads,
    # whatever TF_CPP_MIN_LOG_LEVEL says: load it with the descriptor pointed at /dev/null.
    # Device discovery (cuInit on a machine without a GPU driver) logs at ERROR level too.
    with _stderr_silenced():
        tf_module = tf()
        with contextlib.suppress(Exception):
            tf_module.config.list_physical_devices()
    with contextlib.suppress(Exception):
        tf_module.get_logger().setLevel(logging.ERROR)
    with contextlib.suppress(Exception):
        import absl.logging

        absl.logging.set_verbosity(absl.logging.ERROR)
    warnings.simplefilter("ignore")




# --------------------------------------------------------------------------------------------
# formatting helpers


def _fmt_duration(seconds: float | None) -> str:
    """``0:07``, ``12:03`` or ``1:02:03``; ``?`` when unknown."""
    return format_duration(seconds, "?")


def _fmt_metric(value: Any, digits: int = 4) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "?"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.{digits}f}"


def _fmt_percent(value: float | None) -> str:
    return "?" if value is None else f"{100.0 * float(value):.2f} %"


def _jsonable(value: Any) -> Any:
    """Turn numpy scalars/arrays, paths and other odd values into plain JSON types."""
    try:
        import numpy as np
    except ImportError:  # pragma: no cover - numpy is a dependency
        np = None
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if np is not None:
        if isinstance(value, np.ndarray):
            return _jsonable(value.tolist())
        if isinstance(value, np.generic):
            return _jsonable(value.item())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _dump_json(obj: Any, out: IO[str]) -> None:
    json.dump(_jsonable(obj), out, indent=2, ensure_ascii=False)
    out.write("\n")


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] | None = None) -> str:
    """A plain aligned text table (two spaces between columns)."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    right = list(right) if right is not None else [False] * len(headers)
    lines = []
    for n, row in enumerate(cells):
        parts = [c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _confusion_table(confusion: Any) -> str:
    """Confusion matrix as an aligned table: rows = true digit, columns = predicted digit."""
    rows = [[int(v) for v in row] for row in confusion]
    width = max(3, max((len(str(v)) for row in rows for v in row), default=1))
    label = "true\\pred"
    head = label + " " + " ".join(str(c).rjust(width) for c in range(len(rows)))
    lines = [head]
    for digit, row in enumerate(rows):
        lines.append(str(digit).rjust(len(label)) + " " + " ".join(str(v).rjust(width) for v in row))
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# argument types


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _nonneg_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not (0.0 <= value < 1.0):
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text}")
    return value


def _kfold_k(text: str) -> int:
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"k-fold needs at least 2 folds, got {value}")
    return value


OPTIMIZERS = ("sgd", "adam", "adadelta", "rmsprop", "adamw", "nadam")
SCHEDULES = ("constant", "onecycle", "cosine", "step")


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors name the subcommand and exit with status 2."""


def build_parser() -> argparse.ArgumentParser:
    """The ``digitpad`` argument parser (exposed for documentation and tests)."""
    parser = _Parser(
        prog=PROG,
        description="Draw a digit, see what a neural network thinks it is, and train that network "
        "yourself. Without a subcommand the desktop app opens.",
        epilog="Exit status: 0 ok, 1 error, 2 usage error, 130 interrupted (train saves first). "
        "Set DIGITPAD_DEBUG=1 to see tracebacks and TensorFlow's logs.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    g = sub.add_parser("gui", help="open the desktop app (the default)", description="Open the desktop app.")
    g.add_argument("files", nargs="*", metavar="FILE", help="a model (.keras/.h5) and/or images to open")

    # train ------------------------------------------------------------------------------------
    t = sub.add_parser(
        "train",
        help="train a model and save it",
        description="Train a model on MNIST (or another data source) and save it. Shows a progress "
        "bar with ETA on a terminal and a line per epoch. Ctrl-C stops at the end of the current "
        "batch, keeps the weights trained so far (the best validation epoch when a validation "
        "split exists), saves them to --out and exits with status 130.",
    )
    t.add_argument("--arch", default=None, metavar="NAME",
                   help="architecture (see `digitpad archs`; default: fast, or the --model file's)")
    t.add_argument("--model", metavar="PATH",
                   help="train further a saved model (.keras continues with its saved optimizer state; "
                        ".h5 with a fresh optimizer)")
    t.add_argument("--epochs", type=_positive_int, metavar="N", help="epochs (default: the architecture's)")
    t.add_argument("--batch-size", type=_positive_int, metavar="N", help="batch size (default: the architecture's)")
    t.add_argument("--optimizer", choices=OPTIMIZERS, type=str.lower, help="optimizer (default: the architecture's)")
    t.add_argument("--lr", type=_positive_float, metavar="X", help="learning rate (default: the architecture's)")
    t.add_argument("--schedule", choices=SCHEDULES, type=str.lower, help="learning-rate schedule (default: the architecture's)")
    t.add_argument(
        "--augment", action=argparse.BooleanOptionalAction, default=None,
        help="random shifts/rotations of the training images (default: the architecture's)",
    )
    t.add_argument("--val-split", type=_fraction, default=0.1, metavar="F", help="validation fraction (default: 0.1; 0 for none)")
    t.add_argument("--kfold", type=_kfold_k, metavar="K", help="run K-fold cross-validation instead (prints per-fold accuracy; saves nothing)")
    t.add_argument("--data", metavar="SOURCE", help="mnist (bundled, default), keras, an .npz file, an IDX folder or a 0/..9/ image folder")
    t.add_argument("--device", default="auto", metavar="DEV", help="cpu, gpu, gpu:N or auto (default)")
    t.add_argument("--seed", type=_nonneg_int, default=0, metavar="N", help="random seed (default: 0)")
    t.add_argument("--limit", type=_positive_int, metavar="N", help="train on a random subset of N training images")
    t.add_argument("--test-limit", type=_positive_int, metavar="N", help="test on a random subset of N test images")
    t.add_argument("--out", metavar="PATH", help="where to save the model, .keras or .h5 (default: ./digitpad-<arch>-<date>.keras)")

    # evaluate ---------------------------------------------------------------------------------
    e = sub.add_parser(
        "evaluate",
        help="accuracy, loss, per-class accuracy and confusion matrix",
        description="Evaluate a model on the test split of a data source (the whole set when it "
        "has no test split).",
    )
    e.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    e.add_argument("--data", metavar="SOURCE", help="data source (default: bundled MNIST)")
    e.add_argument("--limit", type=_positive_int, metavar="N", help="evaluate a random subset of N images")
    e.add_argument("--json", action="store_true", help="print a JSON object")

    # predict ----------------------------------------------------------------------------------
    p = sub.add_parser(
        "predict",
        help="recognise digits in image files",
        description="Recognise the digit in each image (any size, light or dark ink). Prints "
        "path<TAB>digit<TAB>confidence per image (digit is 'blank' for an empty image). A file "
        "that cannot be read is reported and the others are still predicted; the exit status is "
        "then 1.",
    )
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    p.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    p.add_argument("--json", action="store_true", help="print a JSON list")

    # info -------------------------------------------------------------------------------------
    i = sub.add_parser(
        "info", help="describe a model file",
        description="Format, size, architecture and training metadata, input/output adaptation, "
        "optimizer state and layer summary of a model file. The file is checked and loaded safely; "
        "no code from it runs.",
    )
    i.add_argument("model", metavar="MODEL", help="model file (.keras or .h5)")
    i.add_argument("--json", action="store_true", help="print a JSON object")

    # archs ------------------------------------------------------------------------------------
    a = sub.add_parser("archs", help="list the registered architectures", description="List the registered architectures.")
    a.add_argument("--json", action="store_true", help="print a JSON list")
    return parser


# --------------------------------------------------------------------------------------------
# gui


def cmd_gui(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Start the desktop app (imported lazily)."""
    try:
        from digitpad.gui.app import main as gui_main
    except ImportError as exc:
        missing = getattr(exc, "name", None) or ""
        if missing == "digitpad.gui" or missing.startswith("digitpad.gui.") or missing == "digitpad.gui.app":
            print(GUI_MISSING, file=err)
            return EXIT_ERROR
        if debug_enabled():
            raise
        print(f"{PROG}: error: the desktop app cannot start because {missing or exc} is not installed.", file=err)
        return EXIT_ERROR
    # Pass the files explicitly: the app would otherwise read sys.argv (which holds "gui").
    result = gui_main(list(getattr(args, "files", None) or []))
    return int(result) if isinstance(result, int) else EXIT_OK


# --------------------------------------------------------------------------------------------
# train


class ProgressPrinter:
    """Turns training :class:`~digitpad.core.training.Progress` events into terminal output.

    On a terminal a one-line progress bar is redrawn in place on ``err`` (at most ~10 times a
    second); otherwise no bar is drawn, only a short line every ``plain_interval`` seconds. Each
    finished epoch prints one line on ``out``.
    """

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        *,
        tty: bool | None = None,
        prefix: str = "",
        redraw_interval: float = 0.1,
        plain_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.err = err
        self.tty = _isatty(err) if tty is None else tty
        self.prefix = prefix
        self.redraw_interval = redraw_interval
        self.plain_interval = plain_interval
        self._clock = clock
        self._last_draw = -math.inf
        self._last_plain = clock()
        self._bar_len = 0
        self._epoch_started = 0.0
        # Re-entrant: the Ctrl-C handler prints through note() on the main thread, possibly while
        # that thread is inside __call__ holding the lock (a plain Lock deadlocks there).
        self._lock = threading.RLock()
        self.epoch_lines: list[str] = []

    # -- public -----------------------------------------------------------------------------
    def __call__(self, p: Any) -> None:
        with self._lock:
            kind = getattr(p, "kind", "")
            if kind == "start":
                self._epoch_started = float(getattr(p, "elapsed", 0.0) or 0.0)
            elif kind == "batch":
                self._batch(p)
            elif kind == "epoch":
                self._epoch(p)
            elif kind == "message":
                self.clear()
                if getattr(p, "message", ""):
                    print(f"{self.prefix}{p.message}", file=self.err, flush=True)
            elif kind == "end":
                self.clear()

    def note(self, text: str) -> None:
        """Print a line on ``err`` without breaking the progress bar."""
        with self._lock:
            self.clear()
            print(text, file=self.err, flush=True)

    def note_from_signal(self, text: str) -> None:
        """Print a line from a signal handler: a raw ``os.write`` on the stream's descriptor.

        The handler may run while the main thread is inside a buffered write to the same stream,
        where a second buffered write raises "reentrant call"; a raw write cannot.
        """
        try:
            fd = self.err.fileno()
        except (AttributeError, OSError, ValueError):
            self.note(text)
            return
        prefix = "\n" if self.tty and self._bar_len else ""
        self._bar_len = 0
        with contextlib.suppress(OSError):
            os.write(fd, (prefix + text + "\n").encode("utf-8", "replace"))

    def clear(self) -> None:
        if self.tty and self._bar_len:
            self.err.write("\r" + " " * self._bar_len + "\r")
            self.err.flush()
            self._bar_len = 0
            self._last_draw = -math.inf

    # -- rendering --------------------------------------------------------------------------
    def bar_text(self, p: Any, width: int = 80) -> str:
        """The progress line for one batch event, fitted into ``width`` columns."""
        logs = getattr(p, "logs", {}) or {}
        batch, batches = int(p.batch), max(1, int(p.batches))
        head = f"{self.prefix}epoch {p.epoch}/{p.epochs}"
        metrics = []
        if "loss" in logs:
            metrics.append(f"loss {_fmt_metric(logs['loss'], 3)}")
        acc = logs.get("accuracy", logs.get("acc"))
        if acc is not None:
            metrics.append(f"acc {_fmt_metric(acc, 3)}")
        speed = getattr(p, "samples_per_s", 0.0) or 0.0
        tail = "  ".join(
            metrics + ([f"{speed:.0f} img/s"] if speed > 0 else []) + [f"ETA {_fmt_duration(getattr(p, 'eta_s', None))}"]
        )
        count = f"{batch}/{batches}"
        fixed = len(head) + len(count) + len(tail) + 8
        bar_width = max(10, min(30, width - fixed))
        done = min(bar_width, int(bar_width * batch / batches))
        if done >= bar_width:
            bar = "=" * bar_width
        else:
            bar = "=" * done + ">" + " " * (bar_width - done - 1)
        text = f"{head} [{bar}] {count}  {tail}"
        return text[: max(20, width - 1)]

    def _batch(self, p: Any) -> None:
        now = self._clock()
        if self.tty:
            if now - self._last_draw < self.redraw_interval and int(p.batch) < int(p.batches):
                return
            self._last_draw = now
            width = shutil.get_terminal_size((100, 24)).columns
            text = self.bar_text(p, width)
            pad = max(0, self._bar_len - len(text))
            self.err.write("\r" + text + " " * pad)
            self.err.flush()
            self._bar_len = len(text)
        elif now - self._last_plain >= self.plain_interval:
            self._last_plain = now
            print(self.bar_text(p, 200), file=self.err, flush=True)

    def epoch_text(self, p: Any) -> str:
        logs = getattr(p, "logs", {}) or {}
        elapsed = float(getattr(p, "elapsed", 0.0) or 0.0)
        took = max(0.0, elapsed - self._epoch_started)
        parts = [f"{self.prefix}epoch {p.epoch}/{p.epochs}"]
        for key, label in (("loss", "loss"), ("accuracy", "acc"), ("val_loss", "val_loss"), ("val_accuracy", "val_acc")):
            if key in logs:
                parts.append(f"{label} {_fmt_metric(logs[key])}")
        parts.append(f"time {took:.1f}s")
        return "  ".join(parts)

    def _epoch(self, p: Any) -> None:
        self.clear()
        line = self.epoch_text(p)
        self._epoch_started = float(getattr(p, "elapsed", 0.0) or 0.0)
        self.epoch_lines.append(line)
        print(line, file=self.out, flush=True)
        self._last_plain = self._clock()


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _StopOnSigint:
    """Context manager: Ctrl-C asks ``stop()`` to end training gracefully instead of raising."""

    def __init__(self, stop: Callable[[], None], notify: Callable[[str], None]) -> None:
        self._stop = stop
        self._notify = notify
        self.count = 0
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.count += 1
        self._stop()
        if self.count == 1:
            self._notify("stopping after the current batch (the weights so far will be saved)…")
        else:
            self._notify("stopping…")

    def __enter__(self) -> _StopOnSigint:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handler)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            # After a Ctrl-C the command is about to exit 130: a late extra Ctrl-C must not turn
            # into a KeyboardInterrupt traceback while the interpreter shuts down.
            signal.signal(signal.SIGINT, signal.SIG_IGN if self.count else self._previous)
            self._installed = False

    @property
    def interrupted(self) -> bool:
        return self.count > 0


def _default_out(arch: str) -> Path:
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path.cwd() / f"digitpad-{arch}-{stamp}.keras"


def _check_out_path(path: Path) -> Path:
    """Refuse an unusable --out before spending time on training."""
    if path.suffix.lower() not in (".keras", ".h5"):
        raise ModelFileError(f"--out {path} must end in .keras or .h5.")
    if path.exists() and path.is_dir():
        raise ModelFileError(f"--out {path} is a folder, not a file name.")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ModelFileError(f"cannot save to {path}: the folder {parent} does not exist.")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ModelFileError(f"cannot save to {path}: the folder {parent} is not writable.")
    return path


def _train_config(args: argparse.Namespace) -> Any:
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
        data=args.data,
        train_limit=args.limit,
        test_limit=args.test_limit,
    )


def _describe_config(cfg: Any) -> str:
    aug = "on" if cfg.augment else "off"
    return (
        f"{cfg.arch}: {cfg.epochs} epoch(s), batch {cfg.batch_size}, {cfg.optimizer} lr {cfg.learning_rate:g} "
        f"({cfg.schedule}), augmentation {aug}, validation {cfg.val_split:g}, seed {cfg.seed}"
    )


def cmd_train(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Train (or k-fold cross-validate) a model from the command line."""
    from digitpad.core.archs import ARCHS, get_arch

    base = None
    if args.model:
        if args.kfold:
            raise DigitpadError("--kfold trains new models for each fold; it cannot start from --model.")
        from digitpad.core.modelfile import read_metadata

        check_model_path = Path(args.model).expanduser()
        if args.arch is None:  # defaults (epochs, optimizer, ...) of the architecture it was made with
            arch = str(read_metadata(check_model_path).get("arch") or "")
            args.arch = arch if arch in ARCHS else None
        base = check_model_path
    if args.arch is None:
        args.arch = "fast"
    get_arch(args.arch)  # unknown name -> ArchitectureError listing the valid ones, before TF work
    out_path: Path | None = None
    if args.kfold:
        if args.out:
            print(f"{PROG}: note: k-fold cross-validation only measures accuracy; nothing is saved "
                  f"(--out {args.out} is ignored).", file=err)
    else:
        out_path = _check_out_path(Path(args.out).expanduser() if args.out else _default_out(args.arch))

    _quiet_tensorflow()
    config = _train_config(args)
    resolved = config.resolved()  # TrainingError for impossible settings, before data/TF

    from digitpad.core.data import load_dataset
    from digitpad.core.tfsetup import describe_device, resolve_device

    device = describe_device(resolve_device(args.device))  # DeviceError: gpu asked, none present
    dataset = load_dataset(args.data)
    n_train = len(dataset.x_train) if args.limit is None else min(args.limit, len(dataset.x_train))
    print(f"device: {device}", file=out)
    print(f"data: {dataset.source}; training on {n_train} images", file=out)
    print(f"config: {_describe_config(resolved)}", file=out, flush=True)

    if args.kfold:
        return _run_kfold(config, args.kfold, dataset, out, err)

    from digitpad.core.modelfile import save_model
    from digitpad.core.training import Trainer

    model = None
    if base is not None:
        from digitpad.core.modelfile import load_model

        loaded = load_model(base)
        model = loaded.model
        adapted = f" (adapted: {'; '.join(loaded.adaptations)})" if loaded.adaptations else ""
        print(f"continuing from: {loaded.path}{adapted}", file=out, flush=True)
    printer = ProgressPrinter(out, err)
    trainer = Trainer(config, dataset=dataset, model=model, on_progress=printer)
    guard = _StopOnSigint(trainer.request_stop, printer.note_from_signal)
    if printer.tty:
        printer.note("training… (Ctrl-C stops and saves the weights trained so far)")
    with guard:
        result = trainer.run()
        printer.clear()
        stopped = bool(result.stopped) or guard.interrupted
        fault = not stopped and result.reason != "completed"
        if fault:
            # NaN/inf loss: the engine rolled back to the last good epoch; keep that if one exists.
            reason = _one_line(result.reason).rstrip(".")
            if not result.epochs_done:
                print(f"{PROG}: error: training stopped: {reason}; nothing was saved "
                      "(try a lower learning rate).", file=err, flush=True)
                return EXIT_ERROR
            saved = save_model(result.model, out_path, metadata=result.metadata())
            print(f"{PROG}: error: training stopped: {reason}; the weights of epoch "
                  f"{result.best_epoch or result.epochs_done} were saved to {Path(saved).resolve()}.",
                  file=err, flush=True)
            return EXIT_ERROR
        if stopped:
            print(f"stopped by user after {result.epochs_done} complete epoch(s)", file=out)
        print(f"device used: {result.device}", file=out)
        if result.best_epoch:
            print(f"best validation epoch: {result.best_epoch}", file=out)
        if result.test_accuracy is not None:
            loss = f" (loss {_fmt_metric(result.test_loss)})" if result.test_loss is not None else ""
            print(f"test accuracy: {_fmt_percent(result.test_accuracy)}{loss}", file=out)
        else:
            print("test accuracy: not measured (the data has no test split)", file=out)
        print(f"training time: {_fmt_duration(result.elapsed)}", file=out, flush=True)
        saved = save_model(result.model, out_path, metadata=result.metadata())
        print(f"saved model to {Path(saved).resolve()}", file=out, flush=True)
    return EXIT_INTERRUPTED if stopped else EXIT_OK


def _run_kfold(config: Any, k: int, dataset: Any, out: IO[str], err: IO[str]) -> int:
    from digitpad.core.training import kfold

    stop_event = threading.Event()
    printer = _FoldPrinter(out, err, k)
    guard = _StopOnSigint(stop_event.set, printer.note_from_signal)
    with guard:
        result = kfold(config, k, dataset=dataset, on_progress=printer, stop_event=stop_event)
    printer.clear()
    accs = list(result.accuracies)
    for n, acc in enumerate(accs, start=1):
        print(f"fold {n}/{k}: accuracy {_fmt_percent(acc)}", file=out)
    if accs:
        print(
            f"k-fold accuracy: {100 * result.mean:.2f} % ± {100 * result.std:.2f} % "
            f"(mean ± std over {len(accs)} fold(s))",
            file=out,
            flush=True,
        )
    if guard.interrupted or stop_event.is_set():
        print(f"stopped by user after {len(accs)} of {k} fold(s)", file=out, flush=True)
        return EXIT_INTERRUPTED
    return EXIT_OK


class _FoldPrinter(ProgressPrinter):
    """ProgressPrinter that prefixes lines with the fold number (a new fold starts at each 'start')."""

    def __init__(self, out: IO[str], err: IO[str], k: int) -> None:
        super().__init__(out, err)
        self.k = k
        self.fold = 0

    def __call__(self, p: Any) -> None:
        if getattr(p, "kind", "") == "start":
            self.fold += 1
            self.prefix = f"fold {min(self.fold, self.k)}/{self.k} "
        super().__call__(p)


# --------------------------------------------------------------------------------------------
# model loading shared by evaluate / predict


def _model_path(given: str | None) -> Path:
    if given:
        return Path(given).expanduser()
    from digitpad.core.paths import bundled_model_path

    path = bundled_model_path()
    if not path.is_file():
        raise ModelFileError(f"no model given and the bundled model is missing ({path}); pass --model PATH.")
    return path


def _load(path: Path) -> Any:
    from digitpad.core.modelfile import load_model

    _quiet_tensorflow()
    return load_model(path)


# --------------------------------------------------------------------------------------------
# evaluate


def cmd_evaluate(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Evaluate a model on a data set."""
    import numpy as np

    from digitpad.core.data import load_dataset

    path = _model_path(args.model)
    loaded = _load(path)
    dataset = load_dataset(args.data)

    from digitpad.core.training import evaluate

    if dataset.x_test is not None and len(dataset.x_test):
        x, y, split = dataset.x_test, dataset.y_test, "test"
    else:
        x, y, split = dataset.x_train, dataset.y_train, "all"
    if args.limit is not None and args.limit < len(x):
        rng = np.random.default_rng(0)
        idx = np.sort(rng.permutation(len(x))[: args.limit])
        x, y = x[idx], y[idx]
    res = evaluate(loaded.model, x, y)
    data_desc = f"{dataset.source} ({split} split, {res.n} images)"
    per_class = [float(v) for v in res.per_class]
    confusion = np.asarray(res.confusion).astype(int).tolist()
    if args.json:
        _dump_json(
            {
                "model": str(path),
                "data": data_desc,
                "n": int(res.n),
                "accuracy": float(res.accuracy),
                "loss": float(res.loss),
                "per_class": per_class,
                "confusion": confusion,
            },
            out,
        )
        return EXIT_OK
    counts = [int(sum(row)) for row in confusion]
    print(f"model:    {path}", file=out)
    print(f"data:     {data_desc}", file=out)
    print(f"accuracy: {_fmt_percent(res.accuracy)}  ({int(round(res.accuracy * res.n))}/{res.n} correct)", file=out)
    print(f"loss:     {_fmt_metric(res.loss)}", file=out)
    print("", file=out)
    print("per-class accuracy:", file=out)
    rows = [[d, counts[d], _fmt_percent(per_class[d])] for d in range(len(per_class))]
    print(_table(["digit", "images", "accuracy"], rows, right=[True, True, True]), file=out)
    print("", file=out)
    print("confusion matrix (rows: true digit, columns: predicted digit):", file=out)
    print(_confusion_table(confusion), file=out, flush=True)
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# predict


def cmd_predict(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Recognise the digit in each image file; one model load, one batched prediction."""
    import numpy as np

    from digitpad.core.inference import Predictor
    from digitpad.core.normalize import normalize_image

    path = _model_path(args.model)
    loaded = _load(path)

    entries: list[dict[str, Any]] = []
    images: list[np.ndarray] = []
    slots: list[int] = []
    for image_path in args.images:
        entry: dict[str, Any] = {"path": image_path}
        try:
            norm = normalize_image(image_path)
        except DigitpadError as exc:
            entry["error"] = str(exc)
        except (OSError, ValueError) as exc:
            entry["error"] = f"cannot read the image: {exc}."
        else:
            if norm.blank or norm.image is None:
                entry.update(digit="blank", confidence=0.0, probabilities=None)
            else:
                slots.append(len(entries))
                images.append(np.asarray(norm.image, dtype=np.float32))
        entries.append(entry)

    if images:
        # Converting to LiteRT costs ~0.4-1 s and pays off only over many images; a handful of
        # files is done sooner by the tf.function backend (~0.1-0.3 s to set up).
        backend = "auto" if len(images) > LITERT_MIN_IMAGES else "tf.function"
        with _stderr_silenced():
            predictor = Predictor(loaded.model, backend=backend)
        probs = np.asarray(predictor.predict_batch(np.stack(images)), dtype=np.float64)
        for slot, row in zip(slots, probs, strict=True):
            digit = int(np.argmax(row))
            entries[slot].update(
                digit=digit,
                confidence=round(float(row[digit]), 6),
                probabilities=[round(float(v), 6) for v in row],
            )

    failed = any("error" in e for e in entries)
    if args.json:
        # one compact object per line: readable, and still one JSON document
        body = ",\n".join("  " + json.dumps(_jsonable(e), ensure_ascii=False) for e in entries)
        out.write("[\n" + body + "\n]\n" if entries else "[]\n")
    else:
        for e in entries:
            if "error" in e:
                print(f"{e['path']}\terror: {e['error']}", file=out)
            elif e["digit"] == "blank":
                print(f"{e['path']}\tblank\t{0.0:.3f}", file=out)
            else:
                print(f"{e['path']}\t{e['digit']}\t{e['confidence']:.3f}", file=out)
        out.flush()
    if failed:
        bad = sum("error" in e for e in entries)
        print(f"{PROG}: error: {bad} of {len(entries)} image(s) could not be read.", file=err)
    return EXIT_ERROR if failed else EXIT_OK


# --------------------------------------------------------------------------------------------
# info


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"  # pragma: no cover


def cmd_info(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """Describe a model file."""
    from digitpad.core.modelfile import describe

    path = Path(args.model).expanduser()
    _quiet_tensorflow()
    info = dict(describe(path))
    if args.json:
        _dump_json(info, out)
        return EXIT_OK
    meta = info.get("metadata") or {}
    lines = [f"file:        {info.get('path', path)}"]
    if info.get("format"):
        lines.append(f"format:      {info['format']}")
    if info.get("file_size") is not None:
        lines.append(f"size:        {_human_size(int(info['file_size']))}")
    if info.get("name"):
        lines.append(f"name:        {info['name']}")
    if meta.get("arch"):
        lines.append(f"arch:        {meta['arch']}")
    if meta.get("test_accuracy") is not None:
        lines.append(f"test acc.:   {_fmt_percent(meta['test_accuracy'])}")
    if meta.get("data"):
        lines.append(f"data:        {meta['data']}")
    if meta.get("date"):
        lines.append(f"date:        {meta['date']}")
    inp = info.get("input")
    if isinstance(inp, dict):
        lines.append(f"input:       {inp.get('file', '?')} in the file; digitpad feeds {inp.get('digitpad', '?')}")
    elif inp is not None:
        lines.append(f"input:       {inp}")
    if info.get("output"):
        lines.append(f"output:      {info['output']}")
    adaptations = info.get("adaptations") or []
    lines.append("adaptations: " + ("; ".join(str(a) for a in adaptations) if adaptations else "none"))
    if "optimizer_state" in info:
        name = info.get("optimizer") or "optimizer"
        if info["optimizer_state"]:
            state = f"{name}, state saved (further training continues where it left off)"
        elif info.get("optimizer"):
            state = f"{name}, no saved state (further training starts a fresh optimizer)"
        else:
            state = "none saved (further training starts a fresh optimizer)"
        lines.append(f"optimizer:   {state}")
    total = info.get("total_params")
    if total is not None:
        trainable = info.get("trainable_params")
        extra = f" ({int(trainable):,} trainable)" if trainable is not None else ""
        lines.append(f"parameters:  {int(total):,}{extra}")
    print("\n".join(lines), file=out)
    print("", file=out)
    if meta:
        print("training metadata:", file=out)
        for key, value in _flatten({k: v for k, v in meta.items() if k != "history"}):
            print(f"  {key}: {value}", file=out)
        history = meta.get("history") or {}
        if isinstance(history, dict) and history:
            print("  history (per epoch):", file=out)
            for key, values in history.items():
                print(f"    {key}: {_scalar_text(list(values) if isinstance(values, (list, tuple)) else values)}", file=out)
    else:
        print("training metadata: none (not saved by digitpad)", file=out)
    summary = info.get("summary")
    layers = info.get("layers")
    if summary or layers:
        print("", file=out)
        if isinstance(summary, str) and summary:
            print(summary.rstrip(), file=out)
        else:
            rows = [list(layer) if isinstance(layer, (list, tuple)) else [str(layer), "", "", ""] for layer in layers]
            print(_table(["Layer", "Class", "Output shape", "Params"], rows, right=[False, False, False, True]), file=out)
        if total is not None:
            print(f"total params: {int(total):,}", file=out)
    out.flush()
    return EXIT_OK


def _flatten(meta: Any, prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if isinstance(meta, dict):
        for key, value in meta.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, dict) and value:
                items.extend(_flatten(value, name))
            else:
                items.append((name, _scalar_text(value)))
    else:
        items.append((prefix or "value", _scalar_text(meta)))
    return items


def _scalar_text(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar_text(v) for v in value) + "]"
    return str(value)


# --------------------------------------------------------------------------------------------
# archs


def cmd_archs(args: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    """List the registered architectures with their parameter counts and defaults."""
    from digitpad.core.archs import ARCHS, param_count

    _quiet_tensorflow()
    records = []
    for name, spec in ARCHS.items():
        records.append(
            {
                "name": name,
                "params": int(param_count(name)),
                "optimizer": spec.optimizer,
                "learning_rate": float(spec.learning_rate),
                "batch_size": int(spec.batch_size),
                "epochs": int(spec.epochs),
                "schedule": spec.schedule,
                "augment": bool(spec.augment),
                "description": spec.description,
            }
        )
    if args.json:
        _dump_json(records, out)
        return EXIT_OK
    rows = [
        [r["name"], f"{r['params']:,}", r["optimizer"], f"{r['learning_rate']:g}", r["batch_size"], r["epochs"], r["description"]]
        for r in records
    ]
    print(
        _table(["name", "params", "optimizer", "lr", "batch", "epochs", "description"], rows,
               right=[False, True, False, True, True, True, False]),
        file=out,
        flush=True,
    )
    return EXIT_OK


# --------------------------------------------------------------------------------------------
# entry point

COMMANDS: dict[str, Callable[[argparse.Namespace, IO[str], IO[str]], int]] = {
    "gui": cmd_gui,
    "train": cmd_train,
    "evaluate": cmd_evaluate,
    "predict": cmd_predict,
    "info": cmd_info,
    "archs": cmd_archs,
}


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``digitpad`` command line.

    Parameters
    ----------
    argv
        Arguments without the program name (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 ok, 1 error, 2 usage error, 130 interrupted.
    """
    out, err = sys.stdout, sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(list(argv) if argv is not None else None)
    except SystemExit as exc:  # --help, --version, usage errors
        code = exc.code
        return code if isinstance(code, int) else (EXIT_OK if code is None else EXIT_USAGE)
    command = args.command or "gui"
    if command != "gui":
        _quiet_environment()
    try:
        return COMMANDS[command](args, out, err)
    except DigitpadError as exc:
        if debug_enabled():
            raise
        print(f"{PROG}: error: {_one_line(str(exc))}", file=err, flush=True)
        return EXIT_ERROR
    except CommandFailed as exc:
        return exc.status
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            err.write("\n")
            err.flush()
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `digitpad predict *.png | head`: the reader went away; stop quietly.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_ERROR
    except MemoryError:
        if debug_enabled():
            raise
        print(f"{PROG}: error: out of memory.", file=err, flush=True)
        return EXIT_ERROR
    except Exception as exc:  # never a traceback for the user
        if debug_enabled():
            raise
        message = _one_line(str(exc)) or "no details"
        print(f"{PROG}: error: unexpected {type(exc).__name__}: {message} (please report)", file=err, flush=True)
        return EXIT_ERROR


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
