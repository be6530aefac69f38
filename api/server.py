"""The production web server of `dealflow run`: gunicorn, one worker process with threads.

Flask-SocketIO (async_mode "threading", see api/live.py) runs under gunicorn's threaded
worker, with simple-websocket carrying socket.io's websocket transport: each socket.io
client holds one of the worker's threads (`DEALFLOW_SERVER_THREADS`) while it is connected.

There is exactly one worker process per server, never more: gunicorn spreads connections
over its workers without sticky sessions, and socket.io's long-polling needs every request of
a session to reach the process that holds it. To serve more, run more `dealflow run`
processes (any machines) behind a load balancer with sticky sessions and one Redis
(`DEALFLOW_REDIS_URL`) as their message queue.

gunicorn forks: the arbiter (the process started by `dealflow run`) only supervises and owns
the listening socket; the app, its database connections and the job loop are built in the
serving worker (`load`), after the fork, so they exist once, in the process that uses them,
and a worker that gunicorn replaces gets fresh ones. The job loop stops when its worker exits,
after the requests in flight.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, Protocol

from gunicorn.app.base import BaseApplication

log = logging.getLogger(__name__)

#: Seconds a stopping server lets requests in flight finish (gunicorn's graceful timeout).
GRACEFUL_SECONDS = 10


class Stoppable(Protocol):
    """What a loaded server may have running beside the app (the job loop)."""

    def stop(self) -> None: ...


Loader = Callable[[], tuple[Any, Stoppable | None]]


def bind_address(host: str, port: int) -> str:
    """gunicorn's `bind` for a host and port; an IPv6 address goes in brackets."""
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


class DealflowServer(BaseApplication):
    """gunicorn, configured in code: `load` (called in the serving worker, after the fork) builds
    the WSGI app and starts whatever runs beside it; that is stopped when the worker exits."""

    def __init__(self, load: Loader, *, host: str, port: int, threads: int) -> None:
        self._load = load
        self._options = {
            "bind": bind_address(host, port),
            "workers": 1,  # see the module docstring: socket.io needs one process per server
            "worker_class": "gthread",
            "threads": threads,
            "graceful_timeout": GRACEFUL_SECONDS,
            "accesslog": "-",
            "errorlog": "-",
            "loglevel": "info",
            "proc_name": "dealflow",
            "worker_exit": self._worker_exit,
            # gunicorn 25+ opens a control socket in the home directory, one path for every
            # server of the user: several dealflow servers on one machine would fight over it.
            "control_socket_disable": True,
        }
        self._beside: Stoppable | None = None
        super().__init__()

    def load_config(self) -> None:
        for key, value in self._options.items():
            if key in self.cfg.settings:  # settings newer than the installed gunicorn are left out
                self.cfg.set(key, value)

    def load(self) -> Any:
        app, beside = self._load()
        self._beside = beside
        log.info("dealflow app loaded in worker process %s", os.getpid())
        return app

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        if self._beside is not None:
            self._beside.stop()
            self._beside = None
