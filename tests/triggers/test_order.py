"""The events of one deal are applied in the order they were accepted, however many arrive at once."""

from __future__ import annotations

import threading

from sqlalchemy import select

from api.subscriptions import app_subscriptions
from crm.models import Notification
from tests.support.world import demo_engine, make_deal
from tests.triggers.conftest import Files, act, automation, send, when
from triggers.models import Event

SENDERS = 6
EACH = 5


def test_events_of_one_deal_sent_at_once_apply_in_the_order_they_were_stored(postgres_database, clock):
    files = Files()
    engine = demo_engine(postgres_database, clock, subscriptions=app_subscriptions(automation=files))
    files.add(automation("main", when("bank", "bank.decision", actions=[act("notify", text="event.comment")])))
    deal_id = make_deal(engine)
    start = threading.Barrier(SENDERS)
    errors: list[BaseException] = []

    def sender(n: int) -> None:
        try:
            start.wait(timeout=10)
            for i in range(EACH):
                send(engine, files, "bank.decision", {"deal_id": deal_id, "approved": True, "comment": f"{n}.{i}"},
                     key=f"{n}.{i}", source="bank")
        except BaseException as err:  # reported below, in the test's thread
            errors.append(err)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with engine.db.transaction() as session:
        accepted = [p["comment"] for p in session.scalars(select(Event.payload).order_by(Event.id))]
        applied = list(session.scalars(
            select(Notification.text).where(Notification.deal_id == deal_id).order_by(Notification.id)))
    assert len(accepted) == SENDERS * EACH
    assert applied == accepted
