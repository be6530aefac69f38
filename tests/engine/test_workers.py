"""Many workers on one database: batch claims that expire, takeover, one batch in memory, retries,
and the heartbeat that keeps a live worker's claims from expiring however long its work takes.

Each "worker" here is an Engine of its own (its own worker id and connections) on the same
database, as separate `dealflow worker` processes would be; tests/chaos runs real processes.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from crm.clock import WallClock
from crm.events import Cause
from crm.models import Deal, TimelineEntry
from engine.engine import Engine
from engine.jobs import Heartbeat, HeldClaims, claim_due_jobs
from engine.models import Job, ProcessInstance
from engine.scheduler import JobLoop
from robots.actions import registry
from robots.actions.tables import OutboxMessage
from tests.support.bpmn import Bpmn
from tests.support.world import TEST_CAUSE, make_deal, tasks_of

LEASE = timedelta(minutes=1)
PROBE = Cause.system("probe")


def worker(engine: Engine, name: str) -> Engine:
    """Another worker process on the same database."""
    other = Engine(engine.db.reopen(), engine.clock, registry, worker_id=name, claim_lease=LEASE)
    other.job_handlers["probe"] = probe
    return other


def probe(rt, job: Job) -> None:
    """A job whose internal effect is a timeline line naming it, so a double run shows."""
    deal = rt.crm.deal(job.deal_id)
    rt.crm.add_note(deal, "probe", f"job {job.id}", cause=PROBE)
    claimed = rt.session.scalar(select(func.count()).select_from(Job).where(
        Job.status == "pending", Job.claimed_by.is_not(None)))
    job.payload = {**job.payload, "claimed_while_running": claimed}


def add_probes(engine: Engine, deal_id: int, count: int, *, due_in: timedelta = timedelta(0)) -> list[int]:
    with engine.unit() as rt:
        now = rt.clock.now()
        jobs = [Job(kind="probe", status="pending", due_at=now + due_in, deal_id=deal_id, payload={},
                    created_at=now) for _ in range(count)]
        rt.session.add_all(jobs)
        rt.session.flush()
        return [job.id for job in jobs]


def runs_per_job(engine: Engine) -> dict[int, int]:
    with engine.db.transaction() as session:
        texts = session.scalars(select(TimelineEntry.text).where(TimelineEntry.kind == "probe")).all()
    counts: dict[int, int] = {}
    for text in texts:
        job_id = int(text.split()[1])
        counts[job_id] = counts.get(job_id, 0) + 1
    return counts


def test_a_dead_workers_claim_expires_and_another_worker_takes_its_jobs_over_once(engine, clock):
    deal = make_deal(engine)
    ids = add_probes(engine, deal, 6)
    dead, alive = worker(engine, "dead"), worker(engine, "alive")
    with dead.db.transaction() as session:  # "dead" claims a batch, then is killed before running it
        claimed = claim_due_jobs(session, "dead", clock.now(), LEASE, 4)
    assert claimed == ids[:4]

    assert alive.run_due_jobs(10) == 2  # the claimed four are left alone while the claim holds
    assert runs_per_job(engine) == {ids[4]: 1, ids[5]: 1}

    clock.advance(LEASE + timedelta(seconds=1))
    assert alive.run_due_jobs(10) == 4  # expired: taken over
    assert dead.run_due_jobs(10) == 0
    assert runs_per_job(engine) == {job_id: 1 for job_id in ids}


def test_a_worker_whose_claim_was_taken_over_does_not_run_the_job_again(engine, clock):
    deal = make_deal(engine)
    (job_id,) = add_probes(engine, deal, 1)
    slow, other = worker(engine, "slow"), worker(engine, "other")
    with slow.db.transaction() as session:
        claim_due_jobs(session, "slow", clock.now(), LEASE, 10)
    clock.advance(LEASE + timedelta(seconds=1))
    assert other.run_due_jobs(10) == 1
    assert slow._run_claimed(job_id) == 0  # it wakes up late: the job is no longer its own
    assert runs_per_job(engine) == {job_id: 1}


def test_a_worker_holds_one_batch_at_a_time_however_many_jobs_wait(engine, clock):
    deal = make_deal(engine)
    add_probes(engine, deal, 300, due_in=timedelta(days=30))  # waiting, not due: never touched
    due = add_probes(engine, deal, 23)
    one = worker(engine, "one")
    total = sum(one.run_due_jobs(5) for _ in range(6))
    assert total == 23
    with engine.db.transaction() as session:
        seen = session.scalars(select(Job.payload).where(Job.id.in_(due))).all()
        untouched = session.scalar(select(func.count()).select_from(Job).where(
            Job.status == "pending", Job.claimed_by.is_(None)))
    assert max(p["claimed_while_running"] for p in seen) <= 5
    assert untouched == 300


def test_a_failing_job_gives_its_claim_back_so_its_retry_can_be_claimed(engine, clock):
    deal = make_deal(engine)
    one = worker(engine, "one")
    calls = []

    def flaky(rt, job):
        calls.append(job.id)
        if len(calls) == 1:
            raise RuntimeError("receiver down")
        probe(rt, job)

    one.job_handlers["flaky"] = flaky
    with engine.unit() as rt:
        rt.session.add(Job(kind="flaky", status="pending", due_at=clock.now(), deal_id=deal, payload={},
                           created_at=clock.now()))
    assert one.run_due_jobs() == 0
    with engine.db.transaction() as session:
        job = session.scalars(select(Job).where(Job.kind == "flaky")).one()
    assert (job.status, job.attempts, job.claimed_by) == ("pending", 1, None)
    clock.advance(timedelta(minutes=5))
    assert one.run_due_jobs() == 1
    assert runs_per_job(engine) == {job.id: 1}


def test_two_writers_of_one_deal_at_once_both_land_the_loser_retrying(postgres_database, clock):
    from tests.support.world import demo_engine

    engine = demo_engine(postgres_database, clock)
    deal_id = make_deal(engine)
    writers = [worker(engine, "a"), worker(engine, "b")]
    both_read = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def add_one(name: str, writer: Engine) -> None:
        def work(rt) -> None:
            attempts.append(name)
            deal = rt.session.get(Deal, deal_id)
            amount = deal.amount
            if len(attempts) <= 2:
                both_read.wait(timeout=10)  # both hold the same version before either writes
            rt.crm.set_fields(deal, {"amount": amount + 1}, cause=TEST_CAUSE)

        try:
            writer.retrying(work)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=add_one, args=(w.worker_id, w)) for w in writers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(attempts) == 3  # one of the two lost the race and ran again on fresh data
    with engine.db.transaction() as session:
        assert session.get(Deal, deal_id).amount == 2


BOTH = (Bpmn("both").start().parallel("split").user("confirm", title="Confirm").message_catch("ping", "bank.decision")
        .parallel("join").end().chain("start", "split", "confirm", "join", "end").chain("split", "ping", "join").xml())


def test_two_writers_of_one_instance_at_once_both_land_the_loser_retrying(postgres_database, clock):
    from tests.support.world import demo_engine

    engine = demo_engine(postgres_database, clock)
    engine.deploy(BOTH)
    deal_id = make_deal(engine)
    instance_id = engine.start("both", deal_id).id
    writers = [worker(engine, "task"), worker(engine, "message")]
    both_read = threading.Barrier(2)
    attempts: list[str] = []
    errors: list[BaseException] = []

    def complete(rt) -> None:
        (task,) = tasks_of(rt, deal_id)
        rt.crm.complete_task(task, cause=TEST_CAUSE)

    def message(rt) -> None:
        rt.send_message(deal_id, "bank.decision", {"approved": True}, cause=TEST_CAUSE)

    def write(writer: Engine, step) -> None:
        def work(rt) -> None:
            attempts.append(writer.worker_id)
            rt.instance(instance_id)  # both hold the same revision ...
            if len(attempts) <= 2:
                both_read.wait(timeout=10)  # ... before either advances it
            step(rt)

        try:
            writer.retrying(work)
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=write, args=pair) for pair in zip(writers, (complete, message), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(attempts) == 3
    with engine.db.transaction() as session:
        assert session.get(ProcessInstance, instance_id).status == "completed"


def test_jobs_run_together_yet_a_failing_one_loses_only_its_own_effects(engine, clock):
    """Several jobs share a transaction, each in a savepoint: the one that fails keeps nothing
    it wrote and is backed off as if it had run alone; the others before and after it land."""
    deal = make_deal(engine)
    one = worker(engine, "one")

    def broken(rt, job: Job) -> None:
        probe(rt, job)  # written, then rolled back with the job
        raise RuntimeError("receiver down")

    one.job_handlers["broken"] = broken
    with engine.unit() as rt:
        now = rt.clock.now()
        jobs = [Job(kind=kind, status="pending", due_at=now - timedelta(seconds=4 - n), deal_id=deal, payload={},
                    created_at=now) for n, kind in enumerate(["probe", "probe", "broken", "probe"])]
        rt.session.add_all(jobs)
        rt.session.flush()
        ids = [job.id for job in jobs]
    transactions = []

    def began(connection) -> None:
        transactions.append(connection)

    sa_event.listen(one.db.engine, "begin", began)
    try:
        assert one.run_due_jobs(10) == 3
    finally:
        sa_event.remove(one.db.engine, "begin", began)
    assert runs_per_job(engine) == {ids[0]: 1, ids[1]: 1, ids[3]: 1}
    with engine.db.transaction() as session:
        failed = session.get(Job, ids[2])
        assert (failed.status, failed.attempts, failed.claimed_by) == ("pending", 1, None)
        assert failed.last_error == "RuntimeError: receiver down"
        assert [session.get(Job, i).status for i in (ids[0], ids[1], ids[3])] == ["done"] * 3
    assert len(transactions) == 3  # the claim, the four jobs, the failed one's backoff


def test_a_job_of_a_chunk_that_loses_a_race_runs_again_at_once_alone(engine, clock):
    """As a job alone would be retried on fresh data when it loses a race (engine.retrying)."""
    from sqlalchemy.orm.exc import StaleDataError

    deal = make_deal(engine)
    one = worker(engine, "one")
    calls: list[int] = []

    def racing(rt, job: Job) -> None:
        calls.append(job.id)
        probe(rt, job)
        if len(calls) == 1:
            raise StaleDataError("another writer moved the deal first")

    one.job_handlers["racing"] = racing
    with engine.unit() as rt:
        now = rt.clock.now()
        jobs = [Job(kind=kind, status="pending", due_at=now - timedelta(seconds=3 - n), deal_id=deal, payload={},
                    created_at=now) for n, kind in enumerate(["probe", "racing", "probe"])]
        rt.session.add_all(jobs)
        rt.session.flush()
        ids = [job.id for job in jobs]
    assert one.run_due_jobs(10) == 3
    assert calls == [ids[1], ids[1]]
    assert runs_per_job(engine) == {job_id: 1 for job_id in ids}
    with engine.db.transaction() as session:
        assert session.get(Job, ids[1]).attempts == 0


def test_when_a_chunks_transaction_is_lost_each_of_its_jobs_runs_alone_once(engine, clock):
    """The connection goes away under the second job: nothing of the chunk stays, and each job
    runs again alone, none of them counted as a failed attempt."""
    deal = make_deal(engine)
    one = worker(engine, "one")
    cut: list[int] = []

    def cutting(rt, job: Job) -> None:
        if not cut:
            cut.append(job.id)
            rt.session.connection().invalidate()  # as if the server had dropped the connection
        probe(rt, job)

    one.job_handlers["cutting"] = cutting
    with engine.unit() as rt:
        now = rt.clock.now()
        jobs = [Job(kind=kind, status="pending", due_at=now - timedelta(seconds=4 - n), deal_id=deal, payload={},
                    created_at=now) for n, kind in enumerate(["probe", "cutting", "probe", "probe"])]
        rt.session.add_all(jobs)
        rt.session.flush()
        ids = [job.id for job in jobs]
    assert one.run_due_jobs(10) == 4
    assert runs_per_job(engine) == {job_id: 1 for job_id in ids}
    with engine.db.transaction() as session:
        assert [(session.get(Job, i).status, session.get(Job, i).attempts) for i in ids] == [("done", 0)] * 4


def test_a_stopping_worker_hands_the_rest_of_its_batch_back_at_once(engine, clock):
    deal = make_deal(engine)
    ids = add_probes(engine, deal, 5)
    leaving, staying = worker(engine, "leaving"), worker(engine, "staying")
    started: list[int] = []

    def counted(rt, job: Job) -> None:
        started.append(job.id)
        probe(rt, job)

    # The signal to stop arrives while the second job is in hand (jobs run several to a
    # transaction: what ran before it commits with it, the rest is handed back).
    leaving.job_handlers["probe"] = counted
    assert leaving.run_due_jobs(5, stopping=lambda: len(started) >= 2) == 2
    assert runs_per_job(engine) == {ids[0]: 1, ids[1]: 1}
    assert staying.run_due_jobs(5) == 3  # handed back: no lease to wait for
    assert runs_per_job(engine) == {job_id: 1 for job_id in ids}


# ---------------------------------------------------------------------- the heartbeat
# Real time from here on: the heartbeat is a thread beating every lease/3 of the wall clock.

SHORT_LEASE = timedelta(seconds=1.5)
OUTLASTS = SHORT_LEASE.total_seconds() * 2.5  # an action or a delivery this long outlives an unrenewed claim


def live_worker(engine: Engine, name: str) -> Engine:
    """A worker on the wall clock with a short lease, as `dealflow worker` runs."""
    other = Engine(engine.db.reopen(), WallClock(), registry, worker_id=name, claim_lease=SHORT_LEASE)
    other.job_handlers["probe"] = probe
    other.job_handlers["slow"] = slow_probe
    return other


def slow_probe(rt, job: Job) -> None:
    time.sleep(OUTLASTS)
    probe(rt, job)


def keep_trying(attempt, until: threading.Event) -> list[int]:
    """Call `attempt` (another worker's claim) again and again until `until` is set; what each call got."""
    got: list[int] = []
    while not until.is_set():
        got.append(attempt())
        time.sleep(0.1)
    return got


def pending_jobs(engine: Engine) -> int:
    with engine.db.sessions() as session:
        return session.scalar(select(func.count()).select_from(Job).where(Job.status == "pending"))


def claimed_by(engine: Engine) -> set[str | None]:
    with engine.db.sessions() as session:
        return set(session.scalars(select(Job.claimed_by).where(Job.status == "pending")))


def test_a_job_that_outlasts_the_lease_keeps_its_batch_claimed_while_its_worker_lives(engine):
    deal = make_deal(engine)
    first, other = live_worker(engine, "first"), live_worker(engine, "other")
    now = WallClock().now() - timedelta(seconds=1)
    with engine.unit() as rt:
        jobs = [Job(kind=kind, status="pending", due_at=now + timedelta(milliseconds=n), deal_id=deal, payload={},
                    created_at=now) for n, kind in enumerate(["slow", "probe", "probe"])]
        rt.session.add_all(jobs)
    loop = JobLoop(first, interval_seconds=0.1, batch=10)
    finished = threading.Event()
    taken: list[int] = []
    thief = threading.Thread(target=lambda: taken.extend(keep_trying(lambda: other.run_due_jobs(10), finished)))
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while claimed_by(engine) != {"first"} and time.monotonic() < deadline:
            time.sleep(0.05)  # until the first worker has its batch in hand (and the slow job under way)
        thief.start()
        while pending_jobs(engine) and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        finished.set()
        loop.stop()
        thief.join(timeout=30)
    assert pending_jobs(engine) == 0
    assert sum(taken) == 0 and len(taken) > 0  # the other worker tried all along and got nothing
    assert runs_per_job(engine) == {job.id: 1 for job in jobs}


class SlowReceiver:
    """A transport that takes longer than a claim's lease to deliver, and counts deliveries."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.sent: list[str] = []

    def send(self, delivery) -> None:
        time.sleep(self.seconds)
        self.sent.append(delivery.idempotency_key)


def test_a_delivery_that_outlasts_the_lease_is_not_sent_again_by_another_worker_meanwhile(engine):
    from api.wiring import outbox_delivery
    from robots.outbox import deliver_due, enqueue

    deal_id = make_deal(engine)
    with engine.unit() as rt:
        enqueue(rt.crm, "email", {"to": "client@example.com", "subject": "Hi", "text": "Hello"},
                deal=rt.crm.deal(deal_id), source="test", cause=TEST_CAUSE)
    first, other = live_worker(engine, "first"), live_worker(engine, "other")
    receiver, elsewhere = SlowReceiver(OUTLASTS), SlowReceiver(0)
    loop = JobLoop(first, interval_seconds=0.1, batch=10, also=[outbox_delivery(first, {"email": receiver})])
    finished = threading.Event()
    taken: list[int] = []

    def steal() -> int:
        return deliver_due(other.db, other.clock, {"email": elsewhere}, worker="other", lease=SHORT_LEASE)

    def claimer() -> str | None:
        with engine.db.sessions() as session:
            return session.scalar(select(OutboxMessage.claimed_by))

    thief = threading.Thread(target=lambda: taken.extend(keep_trying(steal, finished)))
    loop.start()
    try:
        deadline = time.monotonic() + 60
        while claimer() != "first" and time.monotonic() < deadline:
            time.sleep(0.05)  # until the first worker has the message in hand
        thief.start()
        while not receiver.sent and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        finished.set()
        thief.join(timeout=30)
        loop.stop()
    with engine.db.sessions() as session:
        message = session.scalars(select(OutboxMessage)).one()
    assert (message.status, message.attempts) == ("sent", 1)
    assert len(receiver.sent) == 1 and elsewhere.sent == []
    assert sum(taken) == 0 and len(taken) > 0


def test_the_heartbeat_renews_only_the_claims_its_worker_still_holds(engine, clock):
    deal = make_deal(engine)
    mine, taken_over, done = add_probes(engine, deal, 3)
    held = HeldClaims()
    held.hold(Job, [mine, taken_over, done])
    with engine.db.transaction() as session:
        claim_due_jobs(session, "me", clock.now(), LEASE, 10)
        session.get(Job, taken_over).claimed_by = "other"
        session.get(Job, done).status = "done"
    clock.advance(timedelta(minutes=5))
    assert Heartbeat(engine.db, clock, held, lambda: "me", LEASE).beat() == 1
    with engine.db.sessions() as session:
        until = {job.id: job.claimed_until for job in session.scalars(select(Job))}
    assert until[mine] == clock.now() + LEASE
    assert until[taken_over] == until[done] < clock.now()
