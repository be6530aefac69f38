"""Events in: store orders, payments, mail, calls, forms, bank decisions, webhooks and the
CRM's own task moves and field changes; stored once, matched against trigger rules, handed
to waiting BPMN processes.

    triggers.intake.accept_event     validate, store once, apply (one transaction)
    triggers.rules.apply_triggers    the first matching rule of an automation file acts
    triggers.listeners.TriggerEvents CRM task/field events become trigger events (rows of api/subscriptions.py)
    triggers.schemas.EVENT_FIELDS    event type -> payload field -> dsl type, for the DSL checks
    triggers.signatures              HMAC verification of webhook bodies
"""
