"""What the app shell needs from the API: the person's own language, and their notification
feed's bell (unread count, mark all read) that never reaches into another person's feed."""

from __future__ import annotations

from sqlalchemy import select

from crm.events import Cause
from crm.models import Notification, User

CAUSE = Cause.system("test")


def test_the_language_is_kept_on_the_user_and_shown_in_me(client_as, engine):
    anna = client_as("manager.north1")
    assert anna.get("/api/v1/auth/me").json["user"]["language"] == "en"
    changed = anna.patch("/api/v1/auth/me", json={"language": "uk"})
    assert changed.status_code == 200 and changed.json["user"]["language"] == "uk"
    assert anna.get("/api/v1/auth/me").json["user"]["language"] == "uk"
    with engine.unit() as rt:
        assert rt.session.scalar(select(User.language).where(User.login == "manager.north1")) == "uk"
        assert rt.session.scalar(select(User.language).where(User.login == "manager.south1")) == "en"


def test_an_unknown_language_or_another_field_is_refused_and_nothing_changes(client_as, engine):
    anna = client_as("manager.north1")
    for body in ({"language": "de"}, {"language": "uk", "login": "boss"}, {}, {"language": 7}):
        refused = anna.patch("/api/v1/auth/me", json=body)
        assert refused.status_code == 422, body
        assert refused.json["code"] == "invalid_payload"
    with engine.unit() as rt:
        user = rt.session.scalar(select(User).where(User.login == "manager.north1"))
        assert (user.language, user.login) == ("en", "manager.north1")


def test_the_sign_in_answer_carries_the_stored_language(anonymous, engine):
    with engine.unit() as rt:
        rt.crm.set_language("manager.north1", "ru", cause=CAUSE)
    signed_in = anonymous.post("/api/v1/auth/login", json={"login": "manager.north1", "password": "demo"})
    assert signed_in.status_code == 200 and signed_in.json["user"]["language"] == "ru"


def test_read_all_empties_only_the_callers_unread_feed(client_as, engine):
    with engine.unit() as rt:
        for text in ("one", "two", "three"):
            rt.crm.notify("manager.north1", text, cause=CAUSE)
        rt.crm.notify("manager.south1", "not yours", cause=CAUSE)
    anna = client_as("manager.north1")
    assert anna.get("/api/v1/notifications/unread-count").json == {"unread": 3}
    anna.post(f"/api/v1/notifications/{anna.get('/api/v1/notifications').json[0]['id']}/read")
    assert anna.get("/api/v1/notifications/unread-count").json == {"unread": 2}
    done = anna.post("/api/v1/notifications/read-all")
    assert done.status_code == 200 and done.json == {"marked": 2, "unread": 0}
    assert anna.get("/api/v1/notifications?unread_only=true").json == []
    assert anna.post("/api/v1/notifications/read-all").json == {"marked": 0, "unread": 0}
    viktor = client_as("manager.south1")
    assert viktor.get("/api/v1/notifications/unread-count").json == {"unread": 1}
    with engine.unit() as rt:
        other = rt.session.scalar(select(Notification).where(Notification.text == "not yours"))
        assert other.read_at is None


def test_the_feed_names_the_deal(client_as, engine):
    from tests.support.world import make_deal

    deal_id = make_deal(engine, title="Fridge for the bell")
    with engine.unit() as rt:
        rt.crm.notify("manager.north1", "look at this", deal=deal_id, cause=CAUSE)
    first = client_as("manager.north1").get("/api/v1/notifications").json[0]
    assert (first["deal_id"], first["deal_title"]) == (deal_id, "Fridge for the bell")


def test_an_error_speaks_ukrainian_and_keeps_its_code_and_details(client_as):
    anna = client_as("manager.north1")
    english = anna.patch("/api/v1/auth/me", json={"language": "de"})
    ukrainian = anna.patch("/api/v1/auth/me", json={"language": "de"}, headers={"Accept-Language": "uk-UA,uk;q=0.9"})
    assert ukrainian.status_code == english.status_code == 422
    assert ukrainian.json["code"] == english.json["code"] == "invalid_payload"
    assert ukrainian.json["details"] == english.json["details"]
    assert ukrainian.json["message"] == "Запит містить помилки: language."
    assert english.json["message"] != ukrainian.json["message"]
    assert ukrainian.headers["Content-Language"] == "uk"


def test_an_error_speaks_russian(client_as, anonymous):
    missing = client_as("manager.north1").get("/api/v1/deals/999999", headers={"Accept-Language": "ru"})
    assert missing.status_code == 404 and missing.json["code"] == "deal_not_found"
    assert missing.json["message"] == "Сделка не найдена."
    wrong = anonymous.post("/api/v1/auth/login", json={"login": "manager.north1", "password": "nope"},
                           headers={"Accept-Language": "ru"})
    assert (wrong.status_code, wrong.json["code"]) == (401, "invalid_credentials")
    assert wrong.json["message"] == "Неверный логин или пароль."


def test_an_error_stays_english_for_english_or_unknown_languages(client_as):
    anna = client_as("manager.north1")
    for header in ("en", "de-DE", "fr;q=0.9"):
        refused = anna.post("/api/v1/processes", data="x", headers={"Accept-Language": header})
        assert refused.json["message"].isascii(), header
    forbidden = anna.post("/api/v1/processes", data="x", headers={"Accept-Language": "uk"})
    assert forbidden.status_code == 403 and forbidden.json == {"code": "forbidden",
                                                               "message": "Ваші ролі не дозволяють цю дію."}


def test_both_error_catalogs_know_the_same_codes():
    from api.messages import CATALOGS

    assert CATALOGS["uk"]["by_code"].keys() == CATALOGS["ru"]["by_code"].keys()
    assert CATALOGS["uk"]["by_status"].keys() == CATALOGS["ru"]["by_status"].keys()
