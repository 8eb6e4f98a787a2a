"""``geotrigger relay`` as an operator runs it: destinations from the environment, one run with
``--once`` printing its counts, and a clear error without destinations."""

from __future__ import annotations

import os
import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from geotrigger.cli import main
from geotrigger.store import migrations
from geotrigger.store.database import connect
from geotrigger.store.tables import deliveries
from tests.delivery.receiver import SECRET, WebhookReceiver, fired


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    migrations.upgrade(url)
    monkeypatch.setenv("GEOTRIGGER_DATABASE_URL", url)
    return url


def test_relay_once_delivers_and_prints_the_counts(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = connect(url)
    moment = fired(engine, at=datetime.now(UTC))  # the command runs on the wall clock
    with WebhookReceiver() as receiver:
        receiver.route("/crm", SECRET)
        monkeypatch.setenv("GEOTRIGGER_WEBHOOKS", "crm")
        monkeypatch.setenv("GEOTRIGGER_WEBHOOK_CRM_URL", receiver.url("/crm"))
        monkeypatch.setenv("GEOTRIGGER_WEBHOOK_CRM_SECRET", SECRET)
        assert main(["relay", "--once"]) == 0
        assert main(["relay", "--once", "--database-url", url]) == 0
        assert receiver.ids("/crm") == {moment.id: 1}
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "relay: 1 sent, 0 retried, 0 expired, 0 dead; 1 queued",
        "relay: 0 sent, 0 retried, 0 expired, 0 dead; 0 queued",
    ]
    with engine.connect() as conn:
        assert conn.execute(select(deliveries.c.status)).scalars().all() == ["sent"]
    engine.dispose()


def test_relay_runs_until_stopped(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = connect(url)
    fired(engine, at=datetime.now(UTC))
    with WebhookReceiver() as receiver:
        receiver.route("/crm", SECRET)
        monkeypatch.setenv("GEOTRIGGER_WEBHOOKS", "crm")
        monkeypatch.setenv("GEOTRIGGER_WEBHOOK_CRM_URL", receiver.url("/crm"))
        monkeypatch.setenv("GEOTRIGGER_WEBHOOK_CRM_SECRET", SECRET)
        monkeypatch.setenv("GEOTRIGGER_WEBHOOK_CRM_CHANNELS", "push")
        # SIGINT, as Ctrl-C sends it, once the moment has arrived
        stopper = threading.Thread(target=_interrupt_when, args=(receiver,), daemon=True)
        stopper.start()
        assert main(["relay", "--idle", "0.05"]) == 0
        stopper.join(timeout=5)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "relay: crm (push)"
    assert "relay: 1 sent, 0 retried, 0 expired, 0 dead; 1 queued" in out
    assert out[-1] == "relay: stopped"
    engine.dispose()


def _interrupt_when(receiver: WebhookReceiver) -> None:
    deadline = time.monotonic() + 5
    while not receiver.received() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # the relay records the answer and prints its line
    os.kill(os.getpid(), signal.SIGINT)


def test_without_destinations_the_command_says_what_to_set(
    url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("GEOTRIGGER_WEBHOOKS", raising=False)
    assert main(["relay", "--once"]) == 1
    assert "no webhook destination: set GEOTRIGGER_WEBHOOKS" in capsys.readouterr().err
    monkeypatch.setenv("GEOTRIGGER_WEBHOOKS", "crm")
    assert main(["relay", "--once"]) == 1
    assert "GEOTRIGGER_WEBHOOK_CRM_URL is not set" in capsys.readouterr().err
