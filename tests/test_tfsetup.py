"""Lazy TensorFlow import, its quiet loading, and device selection."""

from __future__ import annotations

import subprocess
import sys

import pytest

from digitpad.core import tfsetup
from digitpad.core.errors import DeviceError


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_command_line_import_is_quiet():
    proc = _run(
        "from digitpad.core.tfsetup import tf; tf(); import sys; print('ok', file=sys.stderr)"
    )
    assert proc.returncode == 0
    assert proc.stderr.strip() == "ok"  # TensorFlow's I0000/E0000 lines are gone, ours is kept


@pytest.mark.slow
def test_import_from_a_worker_never_hides_other_threads_stderr():
    """The GUI loads TensorFlow in a worker: the main thread's stderr must stay intact."""
    # _thread, not threading: like a Qt thread-pool thread, invisible to threading.active_count()
    code = (
        "import sys, _thread, time\n"
        "from digitpad.core.tfsetup import tf\n"
        "done = []\n"
        "_thread.start_new_thread(lambda: (tf(), done.append(1)), ())\n"
        "n = 0\n"
        "while not done:\n"
        "    print(f'main {n}', file=sys.stderr, flush=True); n += 1; time.sleep(0.01)\n"
        "print(f'total {n}', file=sys.stderr, flush=True)\n"
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith(("main ", "total "))]
    total = int(lines[-1].split()[1])
    assert total > 0 and len(lines) == total + 1  # every line the main thread wrote arrived


def test_resolve_device():
    assert tfsetup.resolve_device("cpu") == "/CPU:0"
    assert tfsetup.describe_device("/CPU:0") == "CPU"
    auto = tfsetup.resolve_device("auto")
    assert auto == ("/GPU:0" if tfsetup.list_gpus() else "/CPU:0")
    with pytest.raises(DeviceError, match="not cpu, gpu"):
        tfsetup.resolve_device("tpu")
    if not tfsetup.list_gpus():
        with pytest.raises(DeviceError, match="sees no GPU"):
            tfsetup.resolve_device("gpu")
        with pytest.raises(DeviceError, match="sees no GPU"):
            tfsetup.resolve_device("gpu:1")
