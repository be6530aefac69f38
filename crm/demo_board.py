"""The demo's stage gates and the activities the deals board counts (issue 12).

Kept apart from `crm.demo` so the board's part of the demo can change without touching the
world every other screen relies on; `crm.demo.load_demo` calls `load_board_demo` once, last.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from crm.events import Cause
from crm.models import Deal
from crm.service import Crm

CAUSE = Cause.system("demo")

#: SCENARIOS.md, "Stage gates": the credit fields before the bank sees the deal (S1), the
#: address before a courier is sent (S3). `send_to_bank` refuses to start without the same
#: credit fields, so a deal it moves already satisfies the gate.
CREDIT_GATE = ["credit_type", "bank", "id_document", "term_months", "down_payment"]
GATES = {
    "main": {"delivery": ["delivery_address"]},
    "credit": {"bank_review": CREDIT_GATE},
    "installment": {"bank_review": CREDIT_GATE},
}
LOSS_REASONS = {
    "main": ["Too expensive", "Bought elsewhere", "Out of stock", "Client not reachable", "Credit refused"],
}

# title of a demo deal, task title, hours from now until the deadline (negative: overdue)
ACTIVITIES = [
    ("Washing machine Bosch WAN28", "Call the client about the model", 3),
    ("Fridge LG GA-B509", "Call the client: order not paid", -26),
    ('TV Samsung 55" on credit', "Meeting: sign the credit documents", 26),
]


def load_board_demo(crm: Crm) -> None:
    """The gates and loss reasons, part of the demo world every test starts from."""
    for code, gates in GATES.items():
        crm.set_gates(code, required_fields=gates, loss_reasons=LOSS_REASONS.get(code), cause=CAUSE)


def load_board_activities(crm: Crm) -> None:
    """Open tasks on demo deals, so the board's badges show something on first start; part of
    the demo at work (api/demo_workspace.py), not of the plain world the tests count on."""
    now = crm.now()
    for title, task_title, hours in ACTIVITIES:
        deal = crm.session.scalar(select(Deal).where(Deal.title == title).order_by(Deal.id).limit(1))
        if deal is None:
            continue
        crm.create_task(title=task_title, deal=deal, assignee=deal.responsible,
                        deadline=now + timedelta(hours=hours), cause=CAUSE)
