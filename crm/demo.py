"""Demo data: the appliance store of SCENARIOS.md, so a new user can watch the processes work.

Everything goes through the `Crm` service (so the demo deals have timelines and the same
invariants as real ones). Logins, codes and titles are stable: the scenario tests, the
designer's test bench and the docs refer to them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from crm.auth import shared_demo_hash
from crm.demo_board import load_board_demo
from crm.events import Cause
from crm.models import Pipeline
from crm.service import Crm

CAUSE = Cause.system("demo")
OFFICE_HOURS = {day: ["09:00", "18:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
TIMEZONE = "Europe/Moscow"

MAIN_STAGES: list[dict[str, Any]] = [
    {"code": "new", "name": "New", "is_start": True},
    {"code": "in_processing", "name": "In processing"},
    {"code": "product_agreement", "name": "Product agreement"},
    {"code": "order_assembly", "name": "Order assembly"},
    {"code": "shipped", "name": "Shipped"},
    {"code": "delivery", "name": "Delivery"},
    {"code": "delivery_check", "name": "Delivery check"},
    {"code": "won", "name": "Won", "kind": "won"},
    {"code": "lost", "name": "Lost", "kind": "lost"},
]
BANK_STAGES: list[dict[str, Any]] = [
    {"code": "new", "name": "New", "is_start": True},
    {"code": "documents", "name": "Documents"},
    {"code": "bank_review", "name": "Bank review"},
    {"code": "approved", "name": "Approved", "kind": "won"},
    {"code": "rejected", "name": "Rejected", "kind": "lost"},
]
WAREHOUSE_STAGES: list[dict[str, Any]] = [
    {"code": "stored", "name": "Stored", "is_start": True},
    {"code": "returned", "name": "Returned", "kind": "won"},
    {"code": "cancelled", "name": "Cancelled", "kind": "lost"},
]
PIPELINES = [
    ("main", "Sales", MAIN_STAGES),
    ("credit", "Credit", BANK_STAGES),
    ("installment", "Installment", BANK_STAGES),
    ("warehouse", "Warehouse", WAREHOUSE_STAGES),
]

# Global fields: a deal keeps its values when it travels between pipelines.
FIELDS: list[dict[str, Any]] = [
    {"code": "credit_type", "name": "Credit type", "type": "enum", "options": ["credit", "installment"]},
    {"code": "bank", "name": "Bank", "type": "string"},
    {"code": "id_document", "name": "ID document number", "type": "string"},
    {"code": "term_months", "name": "Term, months", "type": "number"},
    {"code": "down_payment", "name": "Down payment", "type": "money"},
    {"code": "ready_date", "name": "Ready by", "type": "datetime"},
    {"code": "return_date", "name": "Return date", "type": "datetime"},
    {"code": "return_stage", "name": "Return stage", "type": "string"},
    {"code": "delivery_address", "name": "Delivery address", "type": "string"},
    {"code": "delivery_time", "name": "Delivery time", "type": "string"},
    {"code": "amount_to_collect", "name": "Amount to collect", "type": "money"},
    {"code": "order_id", "name": "Store order", "type": "string"},
    {"code": "payment_status", "name": "Payment", "type": "enum", "options": ["unpaid", "paid"]},
    {"code": "order_status", "name": "Order status", "type": "string"},
    {"code": "category", "name": "Product category", "type": "string"},
    {"code": "vip", "name": "VIP client", "type": "bool"},
]

DEPARTMENTS = [
    ("store_north", "Store North"),
    ("store_south", "Store South"),
    ("credit", "Credit department"),
    ("logistics", "Logistics"),
    ("purchasing", "Purchasing"),
]

# Every demo user signs in with this password (README); a real install sets its own.
DEMO_PASSWORD = "demo"

# login, name, department, roles, present; the first user of a department is its head.
USERS: list[tuple[str, str, str | None, list[str], bool]] = [
    ("admin", "Alexey Admin", None, ["administrator"], True),
    ("designer", "Dina Designer", None, ["designer"], True),
    ("store.integration", "Online store", None, ["integration"], True),
    ("head.north", "Nikolai Severov", "store_north", ["head", "manager"], True),
    ("manager.north1", "Anna Belova", "store_north", ["manager"], True),
    ("manager.north2", "Boris Orlov", "store_north", ["manager"], False),
    ("head.south", "Svetlana Yuzhina", "store_south", ["head", "manager"], True),
    ("manager.south1", "Viktor Gromov", "store_south", ["manager"], True),
    ("manager.south2", "Galina Frolova", "store_south", ["manager"], True),
    ("head.credit", "Kirill Bankov", "credit", ["head", "manager"], True),
    ("credit1", "Elena Kreditova", "credit", ["manager"], True),
    ("head.logistics", "Leonid Logistov", "logistics", ["head", "logistician"], True),
    ("logist1", "Larisa Marshrutova", "logistics", ["logistician"], True),
    ("driver1", "Dmitry Voditelev", "logistics", ["driver"], True),
    ("driver2", "Denis Shoferov", "logistics", ["driver"], True),
    ("head.purchasing", "Pyotr Zakupkin", "purchasing", ["head", "purchaser"], True),
    ("purchaser1", "Polina Snabova", "purchasing", ["purchaser"], True),
]

CONTACTS = [
    ("Ivan Sokolov", ["+7 (916) 111-22-33"], ["ivan.sokolov@example.com"]),
    ("Maria Ivanova", ["8 903 222 33 44"], ["maria.ivanova@example.com"]),
    ("Pavel Smirnov", ["+7 925 333-44-55"], []),
    ("Olga Kuznetsova", ["+7 926 444 55 66"], ["olga.k@example.com"]),
    ("Sergey Popov", ["89055556677"], ["s.popov@example.com"]),
]

CREDIT_FIELDS = {
    "credit_type": "credit",
    "bank": "Sberbank",
    "id_document": "4510 123456",
    "term_months": 12,
    "down_payment": "10000",
}
INSTALLMENT_FIELDS = {
    "credit_type": "installment",
    "bank": "Tinkoff",
    "id_document": "4612 654321",
    "term_months": 6,
    "down_payment": "0",
}


def _product(name: str, price: str, category: str, qty: int = 1) -> dict[str, Any]:
    return {"name": name, "qty": qty, "price": price, "category": category}


# title, stage, responsible, contact index, department, products, fields
DEALS: list[tuple[str, str, str | None, int | None, str, list[dict[str, Any]], dict[str, Any]]] = [
    (
        "Washing machine Bosch WAN28",
        "new",
        "manager.north1",
        0,
        "store_north",
        [_product("Bosch WAN28", "45990", "washing_machines")],
        {},
    ),
    (
        "Fridge LG GA-B509",
        "in_processing",
        "manager.north2",
        1,
        "store_north",
        [_product("LG GA-B509", "62990", "fridges")],
        {"payment_status": "unpaid"},
    ),
    (
        "Dishwasher Electrolux EEA",
        "in_processing",
        "manager.south1",
        2,
        "store_south",
        [_product("Electrolux EEA 917100", "38490", "dishwashers")],
        {"order_id": "SO-1001", "payment_status": "unpaid", "order_status": "new"},
    ),
    (
        'TV Samsung 55" on credit',
        "product_agreement",
        "manager.north1",
        3,
        "store_north",
        [_product("Samsung UE55", "74990", "tv")],
        {**CREDIT_FIELDS, "category": "tv"},
    ),
    (
        "Laptop Lenovo in installments",
        "product_agreement",
        "manager.south1",
        4,
        "store_south",
        [_product("Lenovo IdeaPad 5", "69990", "laptops")],
        {**INSTALLMENT_FIELDS, "category": "laptops"},
    ),
    (
        "Oven Bosch HBA (credit, incomplete)",
        "product_agreement",
        "manager.north2",
        0,
        "store_north",
        [_product("Bosch HBA534", "52990", "ovens")],
        {"credit_type": "credit"},
    ),
    (
        "Vacuum cleaner Dyson V15",
        "order_assembly",
        "manager.south2",
        1,
        "store_south",
        [_product("Dyson V15 Detect", "59990", "vacuum_cleaners")],
        {"payment_status": "paid"},
    ),
    (
        "Microwave Samsung MS23",
        "shipped",
        "manager.north1",
        2,
        "store_north",
        [_product("Samsung MS23K3513", "11990", "microwaves")],
        {"payment_status": "paid"},
    ),
    (
        "Fridge Atlant and washing machine Indesit",
        "delivery",
        "manager.north1",
        3,
        "store_north",
        [
            _product("Atlant XM-4208", "34990", "fridges"),
            _product("Indesit IWSB 5085", "24990", "washing_machines"),
        ],
        {
            "delivery_address": "Moscow, Lesnaya st. 12, apt. 34",
            "delivery_time": "10:00-14:00",
            "amount_to_collect": "29980",
            "payment_status": "unpaid",
        },
    ),
    (
        "Air conditioner Haier",
        "delivery_check",
        "manager.south1",
        4,
        "store_south",
        [_product("Haier HSU-09", "32990", "climate")],
        {"payment_status": "paid"},
    ),
    (
        "Coffee machine DeLonghi",
        "won",
        "manager.north2",
        0,
        "store_north",
        [_product("DeLonghi ECAM 22", "41990", "coffee_machines")],
        {"payment_status": "paid", "vip": True},
    ),
    (
        "Hob Gorenje",
        "lost",
        "manager.south2",
        None,
        "store_south",
        [_product("Gorenje ECT643", "27990", "hobs")],
        {},
    ),
]


def load_demo(crm: Crm) -> None:
    """Fill an empty CRM with the demo store; does nothing if pipeline "main" exists."""
    if crm.session.scalar(select(Pipeline.id).where(Pipeline.code == "main")) is not None:
        return
    for code, name, stages in PIPELINES:
        crm.create_pipeline(code, name, stages, cause=CAUSE)
    for field in FIELDS:
        crm.create_field_def(**field, cause=CAUSE)
    _load_people(crm)
    contacts = [
        crm.create_contact(name=name, phones=phones, emails=emails, cause=CAUSE) for name, phones, emails in CONTACTS
    ]
    for title, stage, responsible, contact, department, products, fields in DEALS:
        crm.create_deal(
            title=title,
            stage=stage,
            amount=sum(Decimal(p["price"]) * p["qty"] for p in products),
            responsible=responsible,
            contact=None if contact is None else contacts[contact],
            department=department,
            source="store" if "order_id" in fields else "showroom",
            products=products,
            fields=fields,
            cause=CAUSE,
        )
    load_board_demo(crm)


def _load_people(crm: Crm) -> None:
    for code, name in DEPARTMENTS:
        crm.create_department(code=code, name=name, cause=CAUSE)
    heads: dict[str, Any] = {}
    for login, name, department, roles, present in USERS:
        head = heads.get(department) if department else None
        user = crm.create_user(
            login=login,
            name=name,
            email=f"{login}@dealflow.example",
            phone=None,
            department=department,
            supervisor=head,
            roles=roles,
            present=present,
            working_hours=OFFICE_HOURS,
            timezone=TIMEZONE,
            password_hash=shared_demo_hash(DEMO_PASSWORD),
            cause=CAUSE,
        )
        if department and head is None:
            heads[department] = user
            crm.set_department_head(department, user, cause=CAUSE)
