"""Small formatting helpers shared by the command line and the GUI."""

from __future__ import annotations

import math


def format_duration(seconds: float | None, unknown: str = "?") -> str:
    """Format a duration as ``m:ss`` (``h:mm:ss`` past an hour).

    Parameters
    ----------
    seconds
        Duration in seconds; ``None``, negative or non-finite values are unknown.
    unknown
        Text returned for an unknown duration.
    """
    if seconds is None or not math.isfinite(seconds) or seconds < 0:
        return unknown
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
