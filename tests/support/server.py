"""Real `dealflow run` processes for tests that need a server of their own (live updates across
processes, the browser tests): start on a free port, wait until it answers, stop."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
WAIT = 90.0  # generous: the machine may be busy; a start usually takes 2-3 s


class ServerFailed(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def dealflow_server(env: Mapping[str, str], log: Path) -> Iterator[str]:
    """A running `dealflow run` with `env` over the current environment; yields its base URL.

    The server's output goes to `log`, which a failure to start quotes whole."""
    with dealflow_process(env, log) as (base, _process):
        yield base


@contextmanager
def dealflow_process(env: Mapping[str, str], log: Path) -> Iterator[tuple[str, subprocess.Popen]]:
    """`dealflow_server`, also yielding the process started (the server's supervising process)."""
    port = free_port()
    full_env = {**os.environ, "DEALFLOW_HOST": "127.0.0.1", "DEALFLOW_PORT": str(port), **env}
    with log.open("wb") as out:
        process = subprocess.Popen([sys.executable, "-c", "from api.cli import main; main()", "run"],
                                   cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, base, log)
        yield base, process
    finally:
        _stop(process)


def _wait_ready(process: subprocess.Popen, base: str, log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerFailed(f"server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if requests.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise ServerFailed(f"server at {base} not ready in {WAIT}s:\n{log.read_text(errors='replace')}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
