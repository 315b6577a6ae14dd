"""Training progress on the terminal: a tqdm bar with ETA on stderr, one line per epoch on stdout.

Why tqdm (not rich): it is small, pure Python with no dependencies of its own, writes to any
stream (stderr here, so stdout stays a clean log), redraws in place at a bounded rate, fits the
line to the terminal width and turns itself off when stderr is not a terminal - where this module
prints a plain status line every ``plain_interval`` seconds instead of carriage-return spam.

The ETA shown is the engine's (``Progress.eta_s``): the training time left in the whole run, not
only in the current epoch.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Callable
from typing import IO, Any

from digitpad.cli.render import fmt_duration, fmt_metric

MAX_WIDTH = 100  # the bar never grows wider than this, however wide the terminal
BAR_FORMAT = "{desc} |{bar}| {n_fmt}/{total_fmt}{postfix}"
PLAIN_FORMAT = "{desc} {n_fmt}/{total_fmt}{postfix}"
EPOCH_KEYS = (
    ("loss", "loss"),
    ("accuracy", "acc"),
    ("val_loss", "val_loss"),
    ("val_accuracy", "val_acc"),
)


def _isatty(stream: IO[str]) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class ProgressPrinter:
    """Turns training :class:`~digitpad.core.training.Progress` events into terminal output.

    Parameters
    ----------
    out, err
        Epoch lines go to ``out``; the bar, messages and notes to ``err``.
    tty
        Draw the bar (default: whether ``err`` is a terminal).
    width
        Columns the bar may use (default: the terminal's, at most :data:`MAX_WIDTH`).
    redraw_interval
        Least seconds between two redraws of the bar.
    plain_interval
        Without a terminal, seconds between two plain status lines.
    clock
        Time source of the plain status lines.
    """

    def __init__(
        self,
        out: IO[str],
        err: IO[str],
        *,
        tty: bool | None = None,
        width: int | None = None,
        redraw_interval: float = 0.1,
        plain_interval: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.err = err
        self.tty = _isatty(err) if tty is None else tty
        self.width = width
        self.redraw_interval = redraw_interval
        self.plain_interval = plain_interval
        self._clock = clock
        self._last_plain = clock()
        self._bar: Any = None  # the tqdm bar of the epoch in progress
        self._bar_epoch: tuple[int, int] | None = None
        self._epoch_started = 0.0
        # Re-entrant: the Ctrl-C handler may print through note() on the main thread while that
        # thread is inside __call__ holding the lock (a plain Lock deadlocks there).
        self._lock = threading.RLock()

    # -- events ------------------------------------------------------------------------------
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
                if getattr(p, "message", ""):
                    self.note(p.message)  # k-fold messages already name their fold
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
        lead = "\n" if self._bar is not None else ""  # leave the bar's line
        with contextlib.suppress(OSError):
            os.write(fd, (lead + text + "\n").encode("utf-8", "replace"))

    def clear(self) -> None:
        """Remove the bar from the terminal (the next batch draws a new one)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
            self._bar_epoch = None

    # -- text --------------------------------------------------------------------------------
    @staticmethod
    def prefix(p: Any) -> str:
        """``fold 2/5 `` during k-fold cross-validation, else nothing."""
        folds = int(getattr(p, "folds", 0) or 0)
        return f"fold {int(getattr(p, 'fold', 0) or 0)}/{folds} " if folds else ""

    def _desc(self, p: Any) -> str:
        return f"{self.prefix(p)}epoch {p.epoch}/{p.epochs}"

    @staticmethod
    def _postfix(p: Any) -> str:
        logs = getattr(p, "logs", {}) or {}
        parts = [f"ETA {fmt_duration(getattr(p, 'eta_s', None))}"]
        if "loss" in logs:
            parts.append(f"loss {fmt_metric(logs['loss'], 3)}")
        acc = logs.get("accuracy", logs.get("acc"))
        if acc is not None:
            parts.append(f"acc {fmt_metric(acc, 3)}")
        speed = getattr(p, "samples_per_s", 0.0) or 0.0
        if speed > 0:
            parts.append(f"{speed:.0f} img/s")
        return "  ".join(parts)

    def status_text(self, p: Any, width: int = 200) -> str:
        """The plain status line of one batch event (no bar), at most ``width`` columns."""
        from tqdm.std import tqdm

        return tqdm.format_meter(
            int(p.batch),
            max(1, int(p.batches)),
            float(getattr(p, "elapsed", 0.0) or 0.0),
            ncols=width,
            prefix=self._desc(p),
            bar_format=PLAIN_FORMAT,
            postfix=self._postfix(p),
        )

    def epoch_text(self, p: Any) -> str:
        """The line printed on ``out`` for a finished epoch."""
        logs = getattr(p, "logs", {}) or {}
        elapsed = float(getattr(p, "elapsed", 0.0) or 0.0)
        took = max(0.0, elapsed - self._epoch_started)
        parts = [self._desc(p)]
        parts += [f"{label} {fmt_metric(logs[key])}" for key, label in EPOCH_KEYS if key in logs]
        parts.append(f"time {took:.1f}s")
        return "  ".join(parts)

    # -- drawing -----------------------------------------------------------------------------
    def _columns(self) -> int:
        if self.width is not None:
            return self.width
        return min(MAX_WIDTH, shutil.get_terminal_size((MAX_WIDTH, 24)).columns)

    @staticmethod
    def _rows() -> int:
        # tqdm hides a bar below the last screen row; a terminal that reports no size has 0 rows
        return shutil.get_terminal_size((MAX_WIDTH, 24)).lines or 24

    def _new_bar(self, p: Any) -> Any:
        from tqdm.std import tqdm

        return tqdm(
            total=max(1, int(p.batches)),
            desc=self._desc(p),
            file=self.err,
            leave=False,
            ncols=self._columns() - 1,
            nrows=self._rows(),
            mininterval=self.redraw_interval,
            bar_format=BAR_FORMAT,
            postfix=self._postfix(p),
            initial=max(0, int(p.batch) - 1),
        )

    def _batch(self, p: Any) -> None:
        if not self.tty:
            now = self._clock()
            if now - self._last_plain >= self.plain_interval:
                self._last_plain = now
                print(self.status_text(p), file=self.err, flush=True)
            return
        key = (int(p.epoch), int(p.epochs))
        if self._bar is None or self._bar_epoch != key:
            self.clear()
            self._bar = self._new_bar(p)
            self._bar_epoch = key
        self._bar.set_postfix_str(self._postfix(p), refresh=False)
        done = min(int(p.batch), self._bar.total)
        if done > self._bar.n:
            self._bar.update(done - self._bar.n)

    def _epoch(self, p: Any) -> None:
        self.clear()
        line = self.epoch_text(p)
        self._epoch_started = float(getattr(p, "elapsed", 0.0) or 0.0)
        print(line, file=self.out, flush=True)
        self._last_plain = self._clock()


__all__ = ["ProgressPrinter", "MAX_WIDTH"]
