#!/usr/bin/env bash
# Install digitpad on a fresh Linux (Debian/Ubuntu) machine:
#   1. the system libraries Qt needs for a window (and Xvfb/xdotool for the headless GUI tests),
#   2. a virtual environment in .venv with digitpad and its Python dependencies.
# Usage: bash scripts/install.sh [--test]      (--test also installs the test tools)
set -euo pipefail
cd "$(dirname "$0")/.."

extras=""
[ "${1:-}" = "--test" ] && extras="[test]"

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends \
        python3 python3-venv python3-pip \
        libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3 \
        libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4 \
        libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 \
        libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6 \
        xvfb xdotool x11-utils imagemagick >/dev/null
else
    echo "install.sh: no apt-get here; install Qt's X11 libraries (libxcb-cursor0, libegl1, ...) yourself." >&2
fi

PYTHON="${PYTHON:-python3}"
"$PYTHON" - <<'PY'
import sys
if sys.version_info < (3, 11):
    sys.exit(f"digitpad needs Python 3.11 or newer, this is {sys.version.split()[0]}")
PY
"$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q ".${extras}"
echo "digitpad installed: run .venv/bin/digitpad"
