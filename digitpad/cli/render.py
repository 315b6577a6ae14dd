"""Text and JSON output shared by the commands: numbers, tables, the ``info`` report.

Everything here turns data into text; nothing computes or loads. JSON goes through the one
conversion, :mod:`digitpad.core.jsonable`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import IO, Any

from digitpad.cli.terminal_text import shown_tree
from digitpad.core.formatting import format_duration

LAYER_HEADERS = ("Layer", "Type", "Output shape", "Params", "Activation")


# -- numbers -------------------------------------------------------------------------------------


def fmt_duration(seconds: float | None) -> str:
    """``0:07``, ``12:03`` or ``1:02:03``; ``?`` when unknown."""
    return format_duration(seconds, "?")


def fmt_metric(value: Any, digits: int = 4) -> str:
    """A loss or accuracy with ``digits`` decimals; ``?`` for a non-number; nan/inf as is."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "?"
    if not math.isfinite(v):
        return str(v)
    return f"{v:.{digits}f}"


def fmt_percent(value: Any, missing: str = "?") -> str:
    """A fraction as ``97.25 %``; ``missing`` for None, NaN, inf or a value that is no number."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return missing
    return f"{100.0 * v:.2f} %" if math.isfinite(v) else missing


def human_size(n: int) -> str:
    """A byte count as ``812 B``, ``1.2 KiB``, ``3.4 MiB`` or ``1.0 GiB``."""
    size = float(n)
    for unit in ("B", "KiB", "MiB"):
        if size < 1024:
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"


def scalar_text(value: Any) -> str:
    """A metadata value on one line: floats to 6 significant digits, lists in brackets."""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(scalar_text(v) for v in value) + "]"
    return str(value)


# -- tables --------------------------------------------------------------------------------------


def table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], right: Sequence[bool] | None = None
) -> str:
    """A plain aligned text table: two spaces between columns, a dashed line under the headers."""
    cells = [[str(h) for h in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    align = list(right) if right is not None else [False] * len(headers)
    lines = []
    for n, row in enumerate(cells):
        parts = [
            c.rjust(w) if align[i] else c.ljust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(parts).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def confusion_table(confusion: Sequence[Sequence[int]]) -> str:
    """A confusion matrix as an aligned table: rows = true digit, columns = predicted digit."""
    rows = [[int(v) for v in row] for row in confusion]
    width = max(3, max((len(str(v)) for row in rows for v in row), default=1))
    label = "true\\pred"
    lines = [label + " " + " ".join(str(c).rjust(width) for c in range(len(rows)))]
    for digit, row in enumerate(rows):
        lines.append(
            str(digit).rjust(len(label)) + " " + " ".join(str(v).rjust(width) for v in row)
        )
    return "\n".join(lines)


# -- JSON ----------------------------------------------------------------------------------------


def write_json(value: Any, out: IO[str]) -> None:
    """``value`` as indented JSON (through :func:`digitpad.core.jsonable.dumps`) and a newline."""
    from digitpad.core.jsonable import dumps

    out.write(dumps(value, indent=2) + "\n")


def write_json_lines(items: Sequence[Any], out: IO[str]) -> None:
    """A JSON list with one compact item per line: easy to read and still one JSON document."""
    from digitpad.core.jsonable import dumps

    body = ",\n".join("  " + dumps(item) for item in items)
    out.write("[\n" + body + "\n]\n" if items else "[]\n")


# -- the info report -----------------------------------------------------------------------------


def _layer_row(layer: Mapping[str, Any]) -> list[str]:
    """One row of the layer table from a ``describe()`` layer dict."""
    params = layer.get("params")
    return [
        str(layer.get("name", "")),
        str(layer.get("type", "")),
        str(layer.get("output_shape") or ""),
        f"{int(params):,}" if isinstance(params, int | float) else "",
        str(layer.get("activation") or ""),
    ]


def layer_table(layers: Sequence[Mapping[str, Any]]) -> str:
    """The layers of a model as an aligned table (name, type, output shape, params, activation)."""
    rows = [_layer_row(layer) for layer in layers]
    return table(LAYER_HEADERS, rows, right=[False, False, False, True, False])


def _flatten(meta: Any, prefix: str = "") -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    if isinstance(meta, Mapping):
        for key, value in meta.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if isinstance(value, Mapping) and value:
                items.extend(_flatten(value, name))
            else:
                items.append((name, scalar_text(value)))
    else:
        items.append((prefix or "value", scalar_text(meta)))
    return items


def _optimizer_text(info: Mapping[str, Any]) -> str:
    name = info.get("optimizer") or "optimizer"
    if info.get("optimizer_state"):
        return f"{name}, state saved (further training continues where it left off)"
    if info.get("optimizer"):
        return f"{name}, no saved state (further training starts a fresh optimizer)"
    return "none saved (further training starts a fresh optimizer)"


def _overview(info: Mapping[str, Any]) -> list[str]:
    meta = info.get("metadata") or {}
    lines = [f"file:        {info.get('path', '?')}"]
    if info.get("format"):
        lines.append(f"format:      {info['format']}")
    if info.get("file_size") is not None:
        lines.append(f"size:        {human_size(int(info['file_size']))}")
    if info.get("name"):
        lines.append(f"name:        {info['name']}")
    if meta.get("arch"):
        lines.append(f"arch:        {meta['arch']}")
    if meta.get("test_accuracy") is not None:
        lines.append(f"test acc.:   {fmt_percent(meta['test_accuracy'])}")
    for key in ("data", "date"):
        if meta.get(key):
            lines.append(f"{key + ':':<13}{meta[key]}")
    inp = info.get("input")
    if isinstance(inp, Mapping):
        lines.append(
            f"input:       {inp.get('file', '?')} in the file; "
            f"digitpad feeds {inp.get('digitpad', '?')}"
        )
    elif inp is not None:
        lines.append(f"input:       {inp}")
    if info.get("output"):
        lines.append(f"output:      {info['output']}")
    adaptations = info.get("adaptations") or []
    lines.append(
        "adaptations: " + ("; ".join(str(a) for a in adaptations) if adaptations else "none")
    )
    if "optimizer_state" in info:
        lines.append(f"optimizer:   {_optimizer_text(info)}")
    if info.get("confidence"):
        lines.append(f"confidence:  {info['confidence']}")
    total = info.get("total_params")
    if total is not None:
        trainable = info.get("trainable_params")
        extra = f" ({int(trainable):,} trainable)" if trainable is not None else ""
        lines.append(f"parameters:  {int(total):,}{extra}")
    return lines


def _metadata_lines(meta: Mapping[str, Any]) -> list[str]:
    if not meta:
        return ["training metadata: none (not saved by digitpad)"]
    lines = ["training metadata:"]
    lines += [
        f"  {key}: {value}"
        for key, value in _flatten({k: v for k, v in meta.items() if k != "history"})
    ]
    history = meta.get("history") or {}
    if isinstance(history, Mapping) and history:
        lines.append("  history (per epoch):")
        lines += [f"    {key}: {scalar_text(values)}" for key, values in history.items()]
    return lines


def info_text(info: Mapping[str, Any]) -> str:
    """The ``digitpad info`` report of :func:`digitpad.core.modelfile.describe`'s data.

    Parameters
    ----------
    info
        The dict ``describe(path)`` returns (``path``, ``format``, ``file_size``, ``layers``,
        ``total_params``, ``trainable_params``, ``input``, ``output``, ``adaptations``,
        ``metadata``, ``optimizer``, ``optimizer_state``, ``confidence``; missing keys are left out).

    Returns
    -------
    str
        The overview, the training metadata and the layer table, separated by blank lines. Every
        string in ``info`` (it comes from the file) is shown with control characters escaped.
    """
    info = shown_tree(info)
    parts = ["\n".join(_overview(info)), "\n".join(_metadata_lines(info.get("metadata") or {}))]
    layers = info.get("layers") or []
    if layers:
        layer_part = layer_table(layers)
        if info.get("total_params") is not None:
            layer_part += f"\ntotal params: {int(info['total_params']):,}"
        parts.append(layer_part)
    return "\n\n".join(parts)
