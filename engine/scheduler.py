"""The job loop: APScheduler wakes it every interval; the jobs themselves live in our table.

APScheduler only provides the heartbeat, so a restart loses nothing: whatever was due while
the process was down is simply found due on the next tick. Any number of loops (in
`dealflow run` and in `dealflow worker` processes, on any machines) may share one database:
each tick claims a batch at a time (engine.jobs), so a loop never holds more than one batch.
While the loop runs, its heartbeat thread renews the claims of the batch in hand (jobs and
outbox messages alike), so the lease can be short: a dead loop's work is taken over one lease
after its last beat, and a live loop never loses a claim to a slow action or receiver.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable

from apscheduler.schedulers.background import BackgroundScheduler

from engine.engine import Engine
from engine.jobs import Heartbeat

log = logging.getLogger(__name__)


class JobLoop:
    def __init__(self, engine: Engine, interval_seconds: float = 1.0, batch: int = 100,
                 also: Iterable[Callable[[], int]] = ()) -> None:
        self.engine = engine
        self.batch = batch
        self.also = list(also)
        self.heartbeat = Heartbeat(engine.db, engine.clock, engine.claims, lambda: engine.worker_id,
                                   engine.claim_lease)
        self._stopping = threading.Event()
        self._scheduler = BackgroundScheduler(timezone="UTC")
        self._scheduler.add_job(
            self.tick, "interval", seconds=interval_seconds, id="dealflow-jobs",
            max_instances=1, coalesce=True,
        )

    def tick(self) -> int:
        """Run due jobs until a batch comes back short, so a backlog drains without waiting a tick."""
        total = 0
        while not self._stopping.is_set():
            ran = self.engine.run_due_jobs(self.batch, stopping=self._stopping.is_set)
            total += ran
            if ran < self.batch:
                break
        for duty in self.also:
            if self._stopping.is_set():
                break
            try:
                total += duty()
            except Exception:  # one failing duty must not stop timers from firing
                log.exception("job loop duty failed")
        return total

    def start(self) -> None:
        self.heartbeat.start()
        self._scheduler.start()

    def stop(self) -> None:
        """Finish the job in hand, hand the rest of its claimed batch back, and stop; the heartbeat
        goes last, so the job in hand keeps its claim until it is done."""
        self._stopping.set()
        self._scheduler.shutdown(wait=True)
        self.heartbeat.stop()

    def run_until(self, stop: threading.Event) -> None:
        """Run in the foreground until `stop` is set (a worker process's main thread)."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()
