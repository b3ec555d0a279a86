"""``watchtower due`` and ``watchtower schedule`` (issue 18, point 3), and never twice across processes.

The in-process tests run the real click tree (CliRunner).  The race tests start real
``watchtower due`` processes against one data dir and a local Mastodon- or Bluesky-like
server (``tests/fake_social.py``) that counts every POST:

- two ``due`` runs at once: one sends, the other sees it taken; the server holds the
  winner's POST until the loser has exited, so the two really overlapped;
- a run killed in the middle of its POST (the post had gone out, the answer never came
  back), then a restarted TUI (in this process) and a ``due`` run at the same moment:
  one of them finds the post among our own posts and records it; nothing is posted again.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from fake_social import BSKY_HANDLE, ENV, FakeBluesky, FakeMastodon
from pytest_httpserver import HTTPServer
from waiting import DEADLINE, wait_until

from watchtower.cli import cli
from watchtower.config import load_config
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.posting import Poster
from watchtower.core.respond.schedule import SCHEDULE_KINDS, schedule_post, scheduled_posts, send_due


def config_toml(server: HTTPServer, tmp_path: Path, *, qa_url: str = "https://bibliotheekzuidstad.nl/qa") -> Path:
    base = server.url_for("/").rstrip("/")
    path = tmp_path / "watchtower.toml"
    path.write_text(
        "[organisation]\n"
        'name = "Bibliotheek Zuidstad"\n'
        'timezone = "Europe/Amsterdam"\n'
        f'qa_url = "{qa_url}"\n'
        "[[organisation.accounts]]\n"
        'platform = "Mastodon"\nhandle = "@bieb@localhost"\nname = "Bieb Zuidstad"\n'
        f'token_env = "WT_MASTODON_TOKEN"\napi_url = "{base}"\n'
        "[[organisation.accounts]]\n"
        f'platform = "Bluesky"\nhandle = "{BSKY_HANDLE}"\n'
        f'password_env = "WT_BSKY_PASSWORD"\napi_url = "{base}"\n',
        encoding="utf-8",
    )
    return path


def run(*args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**ENV, **(env or {})}, input=input, catch_exceptions=False)


@pytest.fixture
def setup(httpserver: HTTPServer, tmp_path: Path) -> tuple[Path, Path]:
    return config_toml(httpserver, tmp_path), tmp_path / "team"


# -- in process ------------------------------------------------------------------------------


def test_schedule_list_and_due_with_the_options_before_or_after_the_verb(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data = setup
    mastodon = FakeMastodon(httpserver)
    added = run("--config", str(cfg), "--operator", "ann", "schedule", "add", "Nogmaals: morgen gewoon open.",
                "--account", "@bieb@localhost", "--in", "3h", "--data-dir", str(data))
    assert added.exit_code == 0, added.output
    assert "post as Bieb Zuidstad @bieb@localhost on Mastodon" in added.output
    sid = added.output.splitlines()[-1]
    listed = run("schedule", "list", "--data-dir", str(data), "--config", str(cfg))
    assert listed.exit_code == 0 and listed.output.startswith(f"{sid[:8]}  ") and "· pending ·" in listed.output
    not_yet = run("--data-dir", str(data), "due", "--config", str(cfg))
    assert (not_yet.exit_code, not_yet.output) == (0, "")  # nothing due: silent, for cron
    # Three hours later (the schedule is moved back instead of the clock):
    log = HandoverLog(data)
    [post] = scheduled_posts(log.entries())
    early = schedule_post(log, account=load_config(cfg).organisation.accounts[0], text=post.text,
                          due=datetime.now(timezone.utc) - timedelta(minutes=1), operator="ann")
    run("schedule", "cancel", sid, "--config", str(cfg), "--data-dir", str(data))
    sent = run("due", "--config", str(cfg), "--data-dir", str(data), "--operator", "cron")
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith(f"sent       {early.id[:8]}  sent as @bieb@localhost on Mastodon: http")
    assert [b["status"] for b in mastodon.bodies] == ["Nogmaals: morgen gewoon open."]
    assert mastodon.keys == [early.key]
    kinds = [(e.kind, e.operator) for e in HandoverLog(data).entries()]
    assert kinds[-2:] == [("schedule_sending", "cron"), ("posted", "cron")]
    assert run("due", "--config", str(cfg), "--data-dir", str(data)).output == ""


def test_dry_run_says_what_would_go_and_sends_nothing(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data = setup
    mastodon = FakeMastodon(httpserver)
    schedule_post(HandoverLog(data), account=load_config(cfg).organisation.accounts[1], text="Nogmaals.",
                  due=datetime.now(timezone.utc), operator="ann")
    out = run("due", "--dry-run", "--config", str(cfg), "--data-dir", str(data))
    assert out.exit_code == 0 and "would-send" in out.output and f"send as {BSKY_HANDLE} on Bluesky" in out.output
    assert mastodon.posts == 0 and [e.kind for e in HandoverLog(data).entries()] == ["scheduled"]
    assert not any(r.path.startswith("/xrpc") for r, _ in httpserver.log)


def test_a_missing_token_holds_the_post_for_a_run_that_has_it(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data = setup
    FakeMastodon(httpserver)
    schedule_post(HandoverLog(data), account=load_config(cfg).organisation.accounts[0], text="Nogmaals.",
                  due=datetime.now(timezone.utc), operator="ann")
    out = CliRunner().invoke(cli, ["due", "--config", str(cfg), "--data-dir", str(data)], env={"WT_MASTODON_TOKEN": ""})
    assert out.exit_code == 2
    assert "held" in out.output and "the environment variable WT_MASTODON_TOKEN is not set" in out.output
    assert [e.kind for e in HandoverLog(data).entries()] == ["scheduled"]  # still due, nothing recorded
    assert run("due", "--config", str(cfg), "--data-dir", str(data)).exit_code == 0


def test_a_post_days_late_is_held_for_an_operator_who_sends_it_by_hand(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    """The box was off for a long weekend: "open again today" is not sent three days late by
    cron; the list says so, and `schedule send` sends it once the operator has read it."""
    cfg, data = setup
    mastodon = FakeMastodon(httpserver)
    now = datetime.now(timezone.utc)
    account = load_config(cfg).organisation.accounts[0]
    stale = schedule_post(HandoverLog(data), account=account, text="Vandaag weer open.",
                          due=now - timedelta(days=3), operator="ann")
    fresh = schedule_post(HandoverLog(data), account=account, text="Nogmaals: morgen open.",
                          due=now - timedelta(hours=5), operator="ann")
    out = run("due", "--config", str(cfg), "--data-dir", str(data), "--operator", "cron")
    assert out.exit_code == 1, out.output  # cron mails it: someone has to decide
    assert f"late       {stale.id[:8]}  not sent: it was due 3 days ago, more than 6 h late" in out.output
    assert f"`watchtower schedule send {stale.id[:8]}` or cancel it" in out.output
    assert f"sent       {fresh.id[:8]}" in out.output
    assert [b["status"] for b in mastodon.bodies] == ["Nogmaals: morgen open."]
    listed = run("schedule", "list", "--config", str(cfg), "--data-dir", str(data))
    assert "late, held (3 days): send or cancel by hand" in listed.output
    again = run("due", "--config", str(cfg), "--data-dir", str(data))
    assert again.exit_code == 1 and len(mastodon.bodies) == 1  # still held, every run
    sent = run("schedule", "send", stale.id[:8], "--config", str(cfg), "--data-dir", str(data), "--operator", "ann")
    assert sent.exit_code == 0, sent.output
    assert sent.output.startswith(f"sent       {stale.id[:8]}  sent as @bieb@localhost on Mastodon")
    assert [b["status"] for b in mastodon.bodies] == ["Nogmaals: morgen open.", "Vandaag weer open."]
    assert run("due", "--config", str(cfg), "--data-dir", str(data)).output == ""
    twice = run("schedule", "send", stale.id[:8], "--config", str(cfg), "--data-dir", str(data))
    assert twice.exit_code == 2 and "already sent or cancelled" in twice.output and len(mastodon.bodies) == 2


@pytest.mark.parametrize(
    "args",
    [["due"], ["due", "--demo"], ["schedule", "list", "--demo"]],
    ids=["no config", "demo", "demo list"],
)
def test_without_a_real_config_it_is_one_line_and_exit_2(tmp_path: Path, args: list[str]) -> None:
    out = CliRunner().invoke(cli, [*args, "--data-dir", str(tmp_path / "d")])
    assert out.exit_code == 2
    lines = out.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("watchtower: ") and "Traceback" not in out.output


def test_during_a_crisis_a_post_without_the_qa_link_needs_a_yes(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data = setup
    HandoverLog(data).append("crisis_start", "Datalek", operator="ann")
    args = ["schedule", "add", "We komen erop terug.", "--account", "@bieb@localhost", "--in", "1h",
            "--config", str(cfg), "--data-dir", str(data)]
    refused = CliRunner().invoke(cli, args, env=ENV)
    assert refused.exit_code == 2
    assert refused.output.strip() == (
        "watchtower: Crisis mode is on: this text has no link to the Q&A page (https://bibliotheekzuidstad.nl/qa). "
        "Add the link, or pass --yes to schedule it anyway (nothing was scheduled)"
    )
    assert HandoverLog(data).entries(kinds=SCHEDULE_KINDS) == []
    assert run(*args, "--yes").exit_code == 0
    with_link = run("schedule", "add", "Meer: https://bibliotheekzuidstad.nl/qa", "--account", "@bieb@localhost",
                    "--in", "1h", "--config", str(cfg), "--data-dir", str(data))
    assert with_link.exit_code == 0, with_link.output


def test_schedule_refusals_are_one_line(httpserver: HTTPServer, setup) -> None:  # type: ignore[no-untyped-def]
    cfg, data = setup
    common = ["--config", str(cfg), "--data-dir", str(data)]
    unknown = CliRunner().invoke(cli, ["schedule", "add", "Hoi", "--account", "@nobody", "--in", "1h", *common], env=ENV)
    assert unknown.exit_code == 2 and "'@nobody' is not one of our accounts in the config" in unknown.output
    too_long = CliRunner().invoke(cli, ["schedule", "add", "x" * 301, "--account", BSKY_HANDLE, "--in", "1h", *common], env=ENV)
    assert too_long.exit_code == 2 and "too long for Bluesky (301/300)" in too_long.output
    gone = CliRunner().invoke(cli, ["schedule", "cancel", "abcdef123", *common], env=ENV)
    assert gone.exit_code == 2 and gone.output.strip() == "watchtower: no scheduled post with id abcdef123"


# -- real processes -------------------------------------------------------------------------------


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        if server.is_running():
            server.stop()


def _due(cfg: Path, data: Path, operator: str) -> subprocess.Popen[str]:
    env = {**os.environ, **ENV}
    return subprocess.Popen(
        [sys.executable, "-m", "watchtower", "--config", str(cfg), "due", "--data-dir", str(data),
         "--operator", operator, "--timeout", "600"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


def _finish(proc: subprocess.Popen[str]) -> tuple[int, str]:
    out, err = proc.communicate(timeout=DEADLINE)
    return proc.returncode, out + err


@pytest.mark.slow  # starts processes
def test_two_due_runs_racing_send_the_post_once(threaded_server: HTTPServer, tmp_path: Path) -> None:
    cfg, data = config_toml(threaded_server, tmp_path), tmp_path / "team"
    mastodon = FakeMastodon(threaded_server)
    mastodon.hold = threading.Event()
    post = schedule_post(HandoverLog(data), account=load_config(cfg).organisation.accounts[0],
                         text="Nogmaals: morgen gewoon open.", due=datetime.now(timezone.utc), operator="ann")
    runs = [_due(cfg, data, "cron-a"), _due(cfg, data, "cron-b")]
    try:
        wait_until(mastodon.holding.is_set, what="one run's POST to reach the server",
                   seen=lambda: [p.poll() for p in runs])
        # The winner waits for its answer; the other run must finish without posting.
        wait_until(lambda: any(p.poll() is not None for p in runs), what="the other run to exit while the POST is held",
                   seen=lambda: mastodon.posts)
    finally:
        mastodon.hold.set()
    results = [_finish(p) for p in runs]
    assert mastodon.posts == 1 and mastodon.created == 1, results
    assert sorted(code for code, _ in results) == [0, 0], results
    outputs = sorted(out for _, out in results)
    assert any(out.startswith(f"sent       {post.id[:8]}") for out in outputs), outputs
    assert any(out.startswith(f"skipped    {post.id[:8]}  being sent by cron-") for out in outputs), outputs
    entries = HandoverLog(data).entries(kinds=SCHEDULE_KINDS)
    assert [e.kind for e in entries] == ["scheduled", "schedule_sending", "posted"]


@pytest.mark.slow  # starts processes
def test_many_posts_two_runs_each_post_once(threaded_server: HTTPServer, tmp_path: Path) -> None:
    cfg, data = config_toml(threaded_server, tmp_path), tmp_path / "team"
    mastodon, bluesky = FakeMastodon(threaded_server), FakeBluesky(threaded_server)
    accounts = load_config(cfg).organisation.accounts
    log = HandoverLog(data)
    now = datetime.now(timezone.utc)
    texts = [f"Herhaling {n}: morgen gewoon open." for n in range(12)]
    for n, text in enumerate(texts):
        schedule_post(log, account=accounts[n % 2], text=text, due=now, operator="ann")
    results = [_finish(p) for p in [_due(cfg, data, "cron-a"), _due(cfg, data, "cron-b")]]
    assert [code for code, _ in results] == [0, 0], results
    masto_sent = [b["status"] for b in mastodon.bodies]
    assert sorted(masto_sent + bluesky.posts) == sorted(texts), results  # every post, each once
    posted = HandoverLog(data).entries(kinds=("posted",))
    assert len(posted) == 12 and len({e.data["schedule"] for e in posted}) == 12


@pytest.mark.slow  # starts and kills processes
@pytest.mark.parametrize("platform", ["Mastodon", "Bluesky"])
def test_a_run_killed_mid_post_then_a_restart_and_a_due_run_at_once_post_nothing_twice(
    threaded_server: HTTPServer, tmp_path: Path, platform: str
) -> None:
    cfg, data = config_toml(threaded_server, tmp_path), tmp_path / "team"
    fake = FakeMastodon(threaded_server) if platform == "Mastodon" else FakeBluesky(threaded_server)
    fake.hold = threading.Event()
    config = load_config(cfg)
    account = config.organisation.accounts[0 if platform == "Mastodon" else 1]
    text = "Nogmaals: morgen gewoon open. https://bibliotheekzuidstad.nl/qa"
    post = schedule_post(HandoverLog(data), account=account, text=text, due=datetime.now(timezone.utc), operator="ann")
    # The TUI (here a due run) sends; the post is made, then the process dies before the answer.
    doomed = _due(cfg, data, "tui-ann")
    try:
        wait_until(fake.holding.is_set, what="the doomed run's POST to reach the server", seen=doomed.poll)
        doomed.kill()
        doomed.wait(timeout=DEADLINE)
    finally:
        fake.hold.set()
    fake.hold = None
    # Restarted TUI (this process) and a cron run, at the same moment.
    cron = _due(cfg, data, "cron")
    tui: dict[str, object] = {}

    def restarted_tui() -> None:
        async def go():  # type: ignore[no-untyped-def]
            poster = Poster(config, env=ENV)
            try:
                return await send_due(HandoverLog(data), config, operator="tui-ann-again", poster=poster)
            finally:
                await poster.aclose()

        tui["outcomes"] = asyncio.run(go())

    worker = threading.Thread(target=restarted_tui)
    worker.start()
    worker.join(timeout=DEADLINE)
    code, out = _finish(cron)
    assert code == 0, out
    made = fake.created if platform == "Mastodon" else fake.creates  # type: ignore[union-attr]
    assert made == 1, (out, tui)
    assert (fake.posts if platform == "Mastodon" else len(fake.posts)) == 1  # type: ignore[union-attr]
    posted = HandoverLog(data).entries(kinds=("posted",))
    assert len(posted) == 1 and posted[0].data["found"] is True and posted[0].data["schedule"] == post.id
    # One of them found it; the other saw it taken, or (if it came last) saw it done and said nothing.
    actions = [o.action for o in tui["outcomes"]] + [line.split()[0] for line in out.splitlines() if line.strip()]  # type: ignore[union-attr]
    assert actions.count("found") == 1 and set(actions) <= {"found", "skipped"}, (actions, out)
