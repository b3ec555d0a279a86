"""The Alerter's rules, dedupe and rate limit (driven by a fake clock), and Apprise delivery
to a local HTTP server."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from pytest_httpserver import HTTPServer

from watchtower.config import Alerts
from watchtower.core.alert.alerts import Alert, Alerter, ApprisePush, crisis_threshold, describe_url
from watchtower.core.models import Coverage, Item, Severity

T0 = datetime(2024, 5, 4, 3, 0, tzinfo=timezone.utc)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_item(
    n: int | str,
    severity: Severity = Severity.HIGH,
    *,
    covered: bool = True,
    platform: str = "Mastodon",
    text: str | None = None,
    author: str = "@x",
    followers: int | None = None,
) -> Item:
    item = Item.create(
        platform=platform,
        source=platform.lower(),
        native_id=str(n),
        author=author,
        author_followers=followers,
        text=text if text is not None else f"post {n}",
        published=T0,
    )
    item.severity = severity
    item.coverage = Coverage(covered=covered)
    return item


def make_alerter(clock: FakeClock | None = None, env: dict[str, str] | None = None, **cfg: object) -> Alerter:
    defaults: dict[str, object] = {"min_severity": "high", "uncovered_min_severity": "medium", "cooldown_seconds": 300}
    defaults.update(cfg)
    return Alerter(Alerts(**defaults), clock=clock or FakeClock(), env=env or {})


# ----------------------------------------------------------------------------- rules


def test_item_at_or_above_min_severity_alerts() -> None:
    alerter = make_alerter()
    alerts = alerter.evaluate([make_item(1, Severity.HIGH)])
    assert len(alerts) == 1
    a = alerts[0]
    assert a.kind == "items" and a.count == 1 and a.severity is Severity.HIGH
    assert a.item_ids == ("Mastodon:mastodon:1",)
    assert "Mastodon" in a.title and "@x" in a.title and "post 1" in a.body


def test_uncovered_item_alerts_from_the_lower_threshold() -> None:
    alerter = make_alerter()
    alerts = alerter.evaluate([make_item(1, Severity.MEDIUM, covered=False)])
    assert len(alerts) == 1
    assert "uncovered" in alerts[0].body


def test_covered_low_item_does_not_alert() -> None:
    alerter = make_alerter()
    assert alerter.evaluate([make_item(1, Severity.MEDIUM, covered=True)]) == []
    assert alerter.evaluate([make_item(2, Severity.LOW, covered=False)]) == []


def test_item_that_grows_later_can_still_alert() -> None:
    """A non-qualifying item is not remembered, so a re-poll with more severity alerts."""
    alerter = make_alerter()
    assert alerter.evaluate([make_item(1, Severity.MEDIUM)]) == []
    assert len(alerter.evaluate([make_item(1, Severity.HIGH)])) == 1


def test_crisis_lowers_both_thresholds_one_level() -> None:
    alerter = make_alerter()
    assert alerter.thresholds(crisis=True) == (Severity.MEDIUM, Severity.LOW)
    assert alerter.evaluate([make_item(1, Severity.MEDIUM)]) == []
    assert len(alerter.evaluate([make_item(2, Severity.MEDIUM)], crisis=True)) == 1
    assert crisis_threshold(Severity.INFO) is Severity.INFO


# ----------------------------------------------------------------------------- dedupe


def test_same_item_twice_alerts_once() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    assert len(alerter.evaluate([make_item(1), make_item(1)])) == 1
    clock.advance(10_000)
    assert alerter.evaluate([make_item(1)]) == []


def test_memory_of_alerted_ids_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    import watchtower.core.alert.alerts as mod

    monkeypatch.setattr(mod, "MEMORY", 50)
    alerter = make_alerter(cooldown_seconds=0)
    alerter.evaluate([make_item(i) for i in range(500)])
    assert len(alerter._alerted) == 50


# ----------------------------------------------------------------------------- rate limit


def test_300_items_in_one_batch_make_one_alert_that_says_300() -> None:
    alerter = make_alerter()
    items = [make_item(i, Severity.HIGH) for i in range(299)]
    items.append(make_item("worst", Severity.CRITICAL, text="we have been hacked"))
    alerts = alerter.evaluate(items)
    assert len(alerts) == 1
    a = alerts[0]
    assert a.count == 300 and len(a.item_ids) == 300
    assert a.title == "300 new mentions need attention"
    assert a.body.startswith("worst: !!! CRIT Mastodon @x: we have been hacked")
    assert a.severity is Severity.CRITICAL


def test_batch_inside_cooldown_is_held_then_summarised_not_lost() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    assert len(alerter.evaluate([make_item(i) for i in range(3)])) == 1

    clock.advance(60)
    assert alerter.evaluate([make_item(i) for i in range(10, 15)]) == []
    clock.advance(60)
    assert alerter.evaluate([make_item(i) for i in range(20, 22)]) == []
    assert alerter.held == 7
    assert alerter.next_due() == pytest.approx(180)

    clock.advance(179)
    assert alerter.evaluate([]) == []
    clock.advance(1)
    later = alerter.flush()
    assert len(later) == 1
    assert later[0].count == 7
    assert set(later[0].item_ids) == {f"Mastodon:mastodon:{i}" for i in [*range(10, 15), 20, 21]}
    assert alerter.held == 0 and alerter.next_due() is None


def test_worse_item_breaks_through_the_cooldown() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    alerter.evaluate([make_item(1, Severity.HIGH)])
    clock.advance(30)
    assert alerter.evaluate([make_item(2, Severity.HIGH)]) == []
    alerts = alerter.evaluate([make_item(3, Severity.CRITICAL)])
    assert len(alerts) == 1
    assert alerts[0].count == 2 and alerts[0].severity is Severity.CRITICAL
    clock.advance(30)
    assert alerter.evaluate([make_item(4, Severity.CRITICAL)]) == []


def test_cooldown_per_platform_when_configured() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock, cooldown_scope="platform")
    first = alerter.evaluate([make_item(1, platform="Mastodon"), make_item(2, platform="Bluesky")])
    assert sorted(a.key for a in first) == ["items:Bluesky", "items:Mastodon"]
    clock.advance(10)
    assert alerter.evaluate([make_item(3, platform="Mastodon")]) == []


def test_global_cooldown_summarises_platforms() -> None:
    alerter = make_alerter()
    items = [make_item(i, platform="X") for i in range(3)] + [make_item(9, platform="Reddit")]
    (a,) = alerter.evaluate(items)
    assert a.key == "items:*"
    assert "X 3" in a.body and "Reddit 1" in a.body


# ----------------------------------------------------------------------------- acknowledge


def test_acknowledged_item_never_alerts_and_leaves_held_summaries() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    assert alerter.evaluate([make_item(1)], acknowledged={"Mastodon:mastodon:1"}) == []
    alerter.evaluate([make_item(2)])
    clock.advance(10)
    alerter.evaluate([make_item(3), make_item(4)])
    alerter.ack("Mastodon:mastodon:3")
    clock.advance(300)
    (a,) = alerter.flush()
    assert a.item_ids == ("Mastodon:mastodon:4",)


def test_acknowledging_stops_reminders() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock, remind_after_seconds=900)
    alerter.evaluate([make_item(1, Severity.CRITICAL), make_item(2)])
    clock.advance(899)
    assert alerter.flush() == []
    clock.advance(1)
    (reminder,) = alerter.flush()
    assert reminder.key == "items:reminder" and reminder.count == 2
    assert "Still unacknowledged" in reminder.title and "CRIT" in reminder.body

    alerter.ack("Mastodon:mastodon:1")
    clock.advance(900)
    assert alerter.evaluate([], acknowledged={"Mastodon:mastodon:2"}) == []
    clock.advance(10_000)
    assert alerter.flush() == []


def test_reminders_are_off_by_default() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    alerter.evaluate([make_item(1)])
    clock.advance(100_000)
    assert alerter.flush() == []


# ----------------------------------------------------------------------------- operational


def test_stale_source_alerts_once_until_it_recovers() -> None:
    clock = FakeClock()
    alerter = make_alerter(clock)
    last = T0 - timedelta(minutes=25)
    assert alerter.stale_source("masto-home", "Mastodon", last, now=T0) is None  # noted; flush says it
    (a,) = alerter.flush()
    assert a.kind == "stale" and a.key == "stale" and a.count == 1
    assert "masto-home" in a.title and "25 min ago" in a.body
    alerter.stale_source("masto-home", "Mastodon", last, now=T0)
    clock.advance(10_000)
    assert alerter.flush() == []  # this outage alerted already
    alerter.source_recovered("masto-home")
    alerter.stale_source("masto-home", "Mastodon", None)
    (again,) = alerter.flush()
    assert "masto-home" in again.title and "no successful fetch yet" in again.body


def test_overdue_followup_alerts_once() -> None:
    alerter = make_alerter()
    due = T0 - timedelta(hours=1)
    a = alerter.overdue_followup("Repost the corrected opening hours", due)
    assert a is not None and a.kind == "followup" and "Repost the corrected" in a.body
    assert alerter.overdue_followup("Repost the corrected opening hours", due) is None
    assert alerter.overdue_followup("Another one", due, followup_id="f-2") is not None
    assert alerter.overdue_followup("Changed text", due, followup_id="f-2") is None


# ----------------------------------------------------------------------------- safety


def test_alert_text_is_sanitised_and_clipped() -> None:
    alerter = make_alerter()
    hostile = "pwn\x1b]52;c;ZWNobyBoaQ==\x07ed \u202egnp.exe\x9b2J " + "x" * 5000
    (a,) = alerter.evaluate([make_item(1, text=hostile, author="@e\x1b[2Jvil")])
    for text in (a.title, a.body):
        assert not re.search(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", text)
    assert len(a.body) <= 600
    direct = Alert(key="k", title="t\x1b]0;x\x07", body="b\nc", severity=Severity.LOW)
    assert direct.title == "t" and direct.body == "b c"


def test_terminal_output_follows_config() -> None:
    alert = Alert(key="k", title="T", body="B", severity=Severity.HIGH)
    assert make_alerter(bell=True, desktop=False).terminal_output(alert) == "\a"
    assert make_alerter(bell=False, desktop=False).terminal_output(alert) == ""
    out = make_alerter(bell=False, desktop=True, env={"TMUX": "/tmp/tmux-1/default,1,0"}).terminal_output(alert)
    assert out.startswith("\x1bPtmux;") and "777;notify;T;B" in out


# ----------------------------------------------------------------------------- Apprise


def test_apprise_notification_reaches_a_local_http_server(httpserver: HTTPServer) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    push = ApprisePush([f"json://127.0.0.1:{httpserver.port}/hook"])
    assert push.problems == []
    alert = Alert(
        key="items:*",
        title="300 new mentions need attention",
        body="worst: !!! CRIT Mastodon @x: we have been hacked",
        severity=Severity.CRITICAL,
        count=300,
    )
    result = push.send(alert)
    assert result.ok and result.sent == 1 and result.failed == 0
    (request, _response) = httpserver.log[0]
    payload = json.loads(request.get_data())
    assert payload["title"] == "300 new mentions need attention"
    assert "we have been hacked" in payload["message"]
    httpserver.check_assertions()


def test_apprise_failure_is_a_result_not_an_exception(httpserver: HTTPServer) -> None:
    httpserver.expect_request("/hook").respond_with_data("nope", status=500)
    push = ApprisePush([f"json://127.0.0.1:{httpserver.port}/hook"])
    result = push.send(Alert(key="k", title="t", body="b", severity=Severity.HIGH))
    assert not result.ok and result.failed == 1 and result.error == result.message
    assert "json://127.0.0.1" in result.message and "/hook" not in result.message


def test_apprise_urls_from_env_and_missing_variable_is_named() -> None:
    cfg = Alerts(apprise_urls=["json://127.0.0.1:9/a"], apprise_url_envs=["WT_PUSH_SET", "WT_PUSH_MISSING"])
    push = ApprisePush.from_config(cfg, env={"WT_PUSH_SET": "ntfy://ntfy.sh/secret-topic-123"})
    assert len(push.urls) == 2
    assert len(push.problems) == 1
    assert "WT_PUSH_MISSING" in push.problems[0]
    assert push.targets == ["json://127.0.0.1", "ntfy://ntfy.sh"]
    assert not any("secret-topic" in t for t in push.targets + push.problems)


def test_alerter_exposes_push_channel_and_problems() -> None:
    assert make_alerter().push is None
    alerter = make_alerter(apprise_url_envs=["WT_NOPE"])
    assert alerter.push is not None and alerter.push.targets == []
    assert "WT_NOPE" in alerter.problems[0]


def test_unusable_url_is_a_problem_without_its_secret() -> None:
    push = ApprisePush(["notaservice://supersecret@host.example/abc"])
    assert push.targets == []
    assert len(push.problems) == 1 and "supersecret" not in push.problems[0]
    result = push.send(Alert(key="k", title="t", body="b", severity=Severity.HIGH))
    assert not result.ok and result.sent == 0


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("ntfy://ntfy.sh/my-secret-topic", "ntfy://ntfy.sh"),
        ("tgram://123456:ABCdefSECRET/987", "tgram://…"),
        ("mailtos://user:pa55@mail.example.org?to=a@b.c", "mailtos://mail.example.org"),
        ("discord://webhookid/webhooktoken", "discord://…"),
        ("json://localhost:8080/x", "json://localhost"),
    ],
)
def test_describe_url_shows_scheme_and_host_only(url: str, shown: str) -> None:
    assert describe_url(url) == shown
