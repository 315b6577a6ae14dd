"""Is there a screen for the desktop app? Asked before Qt starts, because Qt aborts without one.

On Linux (and the other X11/Wayland systems) Qt's default platform plugins need an X server
(``DISPLAY``) or a Wayland compositor (``WAYLAND_DISPLAY``); without either, creating the
``QApplication`` prints several lines and aborts the process (SIGABRT, exit 134). The plugins
that draw elsewhere (``offscreen``, ``minimal``, ``vnc``, ``linuxfb``, ``eglfs``, ...) need
neither. macOS and Windows always have their own plugin.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Mapping
from pathlib import Path

from digitpad.cli.terminal_text import shown

NO_DISPLAY = (
    "the desktop app needs a display, but {reason}; run it in a graphical session, set "
    "QT_QPA_PLATFORM=offscreen to run it without a screen (for tests), or use the command-line "
    "commands (see digitpad --help)."
)
X11_SOCKETS = Path("/tmp/.X11-unix")


def _x11_reachable(display: str) -> bool:
    """False only when ``display`` names a local X server whose socket is certainly not there."""
    if display.startswith("/"):  # a socket path (XQuartz style)
        return Path(display.rsplit(":", 1)[0]).exists() or Path(display).exists()
    host, _, number = display.rpartition(":")
    number = number.split(".", 1)[0]
    if host not in ("", "unix") or not number.isdigit():
        return True  # a remote or unusual display: let Qt try it
    path = X11_SOCKETS / f"X{number}"
    if path.exists():
        return True
    if sys.platform.startswith("linux"):  # Xorg also listens on the abstract socket
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(1.0)
            try:
                sock.connect(f"\0{path}")
            except OSError:
                return False
            return True
    return False


def _wayland_reachable(name: str, env: Mapping[str, str]) -> bool:
    if name.startswith("/"):
        return Path(name).exists()
    runtime = env.get("XDG_RUNTIME_DIR")
    return not runtime or (Path(runtime) / name).exists()


def _plugin_usable(plugin: str, env: Mapping[str, str]) -> bool:
    name = plugin.split(":", 1)[0].strip().lower()
    if name == "xcb":
        display = env.get("DISPLAY", "")
        return bool(display) and _x11_reachable(display)
    if name.startswith("wayland"):
        wayland = env.get("WAYLAND_DISPLAY", "")
        return bool(wayland) and _wayland_reachable(wayland, env)
    return bool(name)  # offscreen, minimal, vnc, linuxfb, eglfs, ...: no display server needed


def display_problem(env: Mapping[str, str] | None = None, platform: str | None = None) -> str | None:
    """The sentence to print when the desktop app cannot open a window here, else None.

    Parameters
    ----------
    env
        The environment to judge (default: ``os.environ``).
    platform
        ``sys.platform`` to judge (default: this one's).

    Returns
    -------
    str or None
        :data:`NO_DISPLAY` with its reason when no platform plugin Qt would try
        (``QT_QPA_PLATFORM``, a ``;``-separated list, or by default X11 then Wayland) has a
        display to draw on.
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if platform.startswith(("darwin", "win", "cygwin")):
        return None
    plugins = [p for p in env.get("QT_QPA_PLATFORM", "").split(";") if p.strip()]
    if not plugins:
        plugins = ["xcb", "wayland"]
    if any(_plugin_usable(plugin, env) for plugin in plugins):
        return None
    return NO_DISPLAY.format(reason=_reason(env))


def _reason(env: Mapping[str, str]) -> str:
    display, wayland = env.get("DISPLAY", ""), env.get("WAYLAND_DISPLAY", "")
    forced = env.get("QT_QPA_PLATFORM", "").strip()
    asked = f" for QT_QPA_PLATFORM={shown(forced)}" if forced else ""
    if not display and not wayland:
        return f"DISPLAY and WAYLAND_DISPLAY are unset{asked}"
    named = ", ".join(
        f"{key}={shown(value)}" for key, value in (("DISPLAY", display), ("WAYLAND_DISPLAY", wayland))
        if value
    )
    return f"no display server answers at {named}{asked}"
