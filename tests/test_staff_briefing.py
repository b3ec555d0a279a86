"""Inform employees for real (issue 18, point 9) and check the Q&A page (point 6).

"Informeer onmiddellijk je werknemers!": the staff briefing carries the crisis description
the operator typed and links the item that started the crisis; it is sent through Apprise
to a configured staff target (here Apprise's ``json://`` scheme to a local HTTP endpoint)
or copied, and either way "Employees informed" is ticked in the checklist.
``watchtower check`` tells whether the Q&A page answers.  Real log files, real servers.
"""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from watchtower.cli import cli
from watchtower.config import parse_config
from watchtower.core.models import Category, Item, Severity
from watchtower.core.record.decisions import crisis_state
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.crisis import (
    EMPLOYEES_INFORMED,
    checklist_progress,
    crisis_item,
    declare_crisis,
    probe_qa_page,
    record_staff_informed,
    send_staff_briefing,
    staff_briefing,
)

T0 = datetime(2026, 11, 3, 13, 0, tzinfo=timezone.utc)


def make_config(**organisation: object):  # type: ignore[no-untyped-def]
    org: dict[str, object] = {
        "name": "Bibliotheek Zuidstad", "timezone": "Europe/Amsterdam",
        "qa_url": "https://bibliotheekzuidstad.nl/qa", "contact_email": "pers@bibliotheekzuidstad.nl",
        "staff_apprise_env": "WT_STAFF_TARGET",
    }
    org.update(organisation)
    return parse_config({"organisation": org})


def item(n: int, text: str, *, minutes: int, severity: Severity, category: Category = Category.CRISIS) -> Item:
    it = Item.create(platform="X", source="x-search", native_id=str(n), author=f"@user{n}", text=text,
                     published=T0 + timedelta(minutes=minutes), url=f"https://x.com/user{n}/status/{n}")
    it.severity, it.category = severity, category
    return it


@pytest.fixture
def items() -> list[Item]:
    return [
        item(1, "Datalek bij de bibliotheek? Mijn gegevens staan online", minutes=0, severity=Severity.HIGH),
        item(2, "Iedereen boos op de bieb", minutes=50, severity=Severity.CRITICAL),  # later and worse: not where it started
    ]


def test_the_briefing_has_the_description_and_links_the_item_it_started_with(data_dir: Path, items: list[Item]) -> None:
    config = make_config()
    log = HandoverLog(data_dir)
    declare_crisis(log, "Persoonsgegevens van leden zijn uitgelekt via het reserveringssysteem", operator="ann", item=items[0])
    state = crisis_state(log.entries())
    start = crisis_item(state, log.entries(), items)
    assert start is items[0]
    briefing = staff_briefing(config, state, start, language="en")
    assert "What happened: Persoonsgegevens van leden zijn uitgelekt via het reserveringssysteem" in briefing.text
    assert "[a short summary of what we know]" not in briefing.text
    assert "(https://x.com/user1/status/1)" in briefing.text and "user2" not in briefing.text
    assert briefing.subject.startswith("Bibliotheek Zuidstad: what to say about")
    assert not briefing.body.startswith("Subject:") and briefing.body.startswith("Dear colleagues,")
    dutch = staff_briefing(config, state, start, language="nl")
    assert "Persoonsgegevens van leden zijn uitgelekt" in dutch.text and dutch.subject.startswith("Bibliotheek Zuidstad: wat te zeggen")


def test_without_a_named_item_the_briefing_links_the_worst_crisis_item_from_before_it_was_declared(
    data_dir: Path, items: list[Item]
) -> None:
    log = HandoverLog(data_dir, clock=lambda: T0 + timedelta(minutes=10))
    log.append("crisis_start", "Datalek", operator="ann")  # declared from the crisis screen, no item
    state = crisis_state(log.entries())
    noise = item(3, "Mooie tentoonstelling", minutes=1, severity=Severity.LOW, category=Category.PRAISE)
    assert crisis_item(state, log.entries(), [*items, noise]) is items[0]


def test_the_briefing_is_sent_to_the_staff_target_and_ticks_employees_informed(
    httpserver: HTTPServer, data_dir: Path, items: list[Item]
) -> None:
    got: list[dict] = []

    def receive(request: Request) -> Response:
        got.append(json.loads(request.data))
        return Response("ok", 200)

    httpserver.expect_request("/staff-channel", method="POST").respond_with_handler(receive)
    target = f"json://{httpserver.host}:{httpserver.port}/staff-channel"
    config = make_config()
    log = HandoverLog(data_dir)
    declare_crisis(log, "Datalek via het reserveringssysteem", operator="ann", item=items[0])
    briefing = staff_briefing(config, crisis_state(log.entries()), items[0])
    sent = send_staff_briefing(config, briefing, env={"WT_STAFF_TARGET": target})
    assert sent.ok, sent.message
    assert sent.message == f"staff briefing sent to json://{httpserver.host}"
    [message] = got
    assert message["title"] == briefing.subject
    assert "What happened: Datalek via het reserveringssysteem" in message["message"]
    record_staff_informed(log, operator="ann", how="sent", target=sent.target)
    state = crisis_state(log.entries())
    assert EMPLOYEES_INFORMED in state.checks_done
    ticked = {check.id for check, done in checklist_progress(state.checks_done) if done}
    assert ticked == {"employees-informed"}  # the checklist's own id: "staff-informed" never ticked it


def test_a_briefing_that_cannot_be_sent_says_why_and_ticks_nothing(httpserver: HTTPServer, data_dir: Path) -> None:
    httpserver.expect_request("/staff-channel", method="POST").respond_with_data("down", status=500)
    target = f"json://{httpserver.host}:{httpserver.port}/staff-channel"
    briefing = "Subject: test\n\nHallo allemaal"
    failed = send_staff_briefing(make_config(), briefing, env={"WT_STAFF_TARGET": target})
    assert not failed.ok and failed.message.startswith(f"sending to json://{httpserver.host} failed")
    unset = send_staff_briefing(make_config(), briefing, env={})
    assert unset.message == "the environment variable WT_STAFF_TARGET (the staff target) is not set: copy the briefing instead"
    none = send_staff_briefing(make_config(staff_apprise_env=None), briefing, env={"WT_STAFF_TARGET": target})
    assert none.message == "no staff target configured (organisation.staff_apprise_env): copy the briefing instead"
    secret = send_staff_briefing(make_config(), briefing, env={"WT_STAFF_TARGET": "nonsense://user:hunter2@x"})
    assert not secret.ok and "hunter2" not in secret.message


# -- the Q&A page (point 6) ---------------------------------------------------------------------


async def test_the_qa_page_probe(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/qa").respond_with_data("<h1>Q&A</h1>", content_type="text/html")
    httpserver.expect_request("/old-qa").respond_with_data("", status=301, headers={"Location": "/qa"})
    httpserver.expect_request("/gone").respond_with_data("not here", status=404)
    ok = await probe_qa_page(httpserver.url_for("/qa"))
    moved = await probe_qa_page(httpserver.url_for("/old-qa"))
    gone = await probe_qa_page(httpserver.url_for("/gone"))
    assert (ok.ok, ok.message) == (True, "answers (HTTP 200)")
    assert moved.ok and moved.message == f"answers (HTTP 200, via {httpserver.url_for('/qa')})"
    assert (gone.ok, gone.message) == (False, "answered HTTP 404: the page people are sent to is not there")
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    down = await probe_qa_page(f"http://127.0.0.1:{port}/qa")
    assert (down.ok, down.message) == (False, "could not connect")


@pytest.mark.parametrize(("path", "code"), [("/qa", 0), ("/gone", 1)])
def test_check_says_whether_the_qa_page_answers(httpserver: HTTPServer, tmp_path: Path, path: str, code: int) -> None:
    httpserver.expect_request("/qa").respond_with_data("<h1>Q&A</h1>", content_type="text/html")
    httpserver.expect_request("/gone").respond_with_data("not here", status=404)
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[organisation]\nname = "Bieb"\nqa_url = "{httpserver.url_for(path)}"\n')
    result = CliRunner().invoke(cli, ["check", "--config", str(cfg)], catch_exceptions=False)
    assert result.exit_code == code, result.output
    line = next(line for line in result.output.splitlines() if "Q&A page" in line)
    if code == 0:
        assert line == f"  ✓ Q&A page {httpserver.url_for(path)} answers (HTTP 200)"
    else:
        assert line.startswith(f"  ✗ Q&A page {httpserver.url_for(path)} answered HTTP 404")
