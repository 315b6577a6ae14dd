#!/usr/bin/env bash
# Install digitpad on a fresh Linux (Debian/Ubuntu) machine:
#   1. the system libraries Qt needs to open a window (X11/xcb, EGL/OpenGL, fonts),
#   2. a virtual environment in .venv with digitpad and its Python dependencies.
# Usage: bash scripts/install.sh [--test]
#   --test  also installs what the test suite needs: the Python test tools (pytest, ruff,
#           import-linter, ...) and, for the tests that start the real app on a virtual display,
#           Xvfb and xdotool.
set -euo pipefail
cd "$(dirname "$0")/.."

test_tools=false
case "${1:-}" in
    "") ;;
    --test) test_tools=true ;;
    *) echo "usage: bash scripts/install.sh [--test]" >&2; exit 2 ;;
esac

packages=(
    python3 python3-venv python3-pip
    libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
    libxkbcommon0 libxkbcommon-x11-0 libx11-xcb1 libxcb-cursor0 libxcb-icccm4
    libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0
    libxcb-xinerama0 libxcb-xkb1 libxcb-xfixes0 libxrender1 libxi6
)
extras=""
if $test_tools; then
    packages+=(xvfb xdotool)
    extras="[test]"
fi

if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
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
