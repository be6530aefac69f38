"""`dealflow run` as an operator starts it: a production server (gunicorn), not Werkzeug's
development server, with socket.io over its websocket transport and the job loop running
once, in the serving worker process, not in gunicorn's supervising one."""

from __future__ import annotations

import queue
import time

import requests
import socketio
from sqlalchemy import select

from api.wiring import build_engine, prepare_database
from crm.db import Database
from engine.models import ProcessInstance
from tests.support.auth import bearer, token_for
from tests.support.bpmn import Bpmn
from tests.support.server import dealflow_process
from tests.support.world import make_deal

NAP = (Bpmn("nap").start().timer_catch("sleep", duration="1s")
       .service("wake", "notify", to='"head.north"', text='"Woke up"').end()
       .chain("start", "sleep", "wake", "end").xml())


def test_dealflow_run_serves_with_a_production_server_and_socketio_over_websocket(tmp_path):
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    engine = build_engine(Database(url))
    prepare_database(engine, demo=True, templates_dir=None, automation_dir=None)
    deal_id = make_deal(engine, department="store_north")
    watcher, mover = token_for(engine, "admin"), token_for(engine, "head.north")
    log = tmp_path / "server.log"
    client = socketio.Client(reconnection=False)
    env = {"DEALFLOW_DATABASE_URL": url, "DEALFLOW_REDIS_URL": "", "DEALFLOW_SCHEDULER_INTERVAL": "0.2"}
    with dealflow_process(env, log) as (base, process):
        try:
            health = requests.get(f"{base}/api/v1/health", timeout=30)
            assert health.status_code == 200
            assert not health.headers.get("Server", "").startswith("Werkzeug"), health.headers

            heard: queue.Queue = queue.Queue()
            client.on("deal.moved", heard.put)
            client.connect(base, auth={"token": watcher}, transports=["websocket"], wait_timeout=30)
            assert client.transport() == "websocket"
            assert client.call("subscribe", {"room": f"deal:{deal_id}"}, timeout=30)["ok"] is True
            moved = requests.post(f"{base}/api/v1/deals/{deal_id}/move", json={"stage": "in_processing"},
                                  headers=bearer(mover), timeout=30)
            assert moved.status_code == 200, moved.text
            assert heard.get(timeout=30)["deal_id"] == deal_id
        finally:
            if client.connected:
                client.disconnect()

        # The job loop runs in the server: a one-second timer started from outside fires.
        engine.deploy(NAP)
        instance_id = engine.start("nap", make_deal(engine)).id
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with engine.db.sessions() as session:
                status = session.scalar(select(ProcessInstance.status).where(ProcessInstance.id == instance_id))
            if status == "completed":
                break
            time.sleep(0.2)
        arbiter = process.pid
    text = log.read_text(errors="replace")
    assert status == "completed", text
    assert "development server" not in text, text
    loops = [line for line in text.splitlines() if line.startswith("dealflow job loop ")]
    assert len(loops) == 1, text  # once, in the one serving worker ...
    loop_pid = int(loops[0].split()[3].split(":")[1])
    assert loop_pid != arbiter, text  # ... not in gunicorn's supervising process
