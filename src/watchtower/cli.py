"""The command line: the TUI by default, and the same core for scripts and cron.

``watchtower``                  the TUI (the built-in demo when there is no config)
``watchtower check``            validate the config and probe every source
``watchtower fetch --json``     one poll round, one JSON item per line
``watchtower triage [FILE|-]``  add triage fields to item JSON lines
``watchtower log ...``          add to and list the handover log
``watchtower handover ...``     show, export, hand over, acknowledge
``watchtower serve``            the TUI in a browser (textual-serve), 127.0.0.1 only by default
``watchtower rota ...``         who is on call when, swaps, the rota as iCalendar (cli_rota)
``watchtower escalate-due``     page who is on call, escalate unacknowledged alerts (cli_alerts)
``watchtower ack [ITEM]``       acknowledge an alert; without ITEM, list the waiting ones
``watchtower search QUERY``     search the archive (cli_search)
``watchtower watch|mute|snooze``  the watch-list, mutes and snoozes (cli_watch)

``--config``, ``--data-dir``, ``--operator`` and ``--demo`` work before or after the
command (:mod:`watchtower.cli_options`).  Only the bare TUI falls back to the demo: a
command a cron job runs (``check``, ``fetch``, ``triage``) with no config anywhere stops
with exit 2 unless ``--demo`` is given.

Every error a user can cause (bad config, unreadable data dir, a source that fails) is
one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Iterator

import click

from . import __version__
from .cli_options import GLOBALS_EPILOG, GlobalSettings, global_options, global_settings
from .config import (
    Config,
    ConfigError,
    WatchtowerError,
    check_environment,
    find_config,
    load_config,
    require_config,
)

if TYPE_CHECKING:  # pragma: no cover
    from .core.triage.rules import RuleSet

CONFIG_HELP = "Config file (TOML). Default: $WATCHTOWER_CONFIG, then the user config dir; none: the demo."


def _fail(message: str, code: int = 2) -> None:
    click.echo(f"watchtower: {message}", err=True)
    sys.exit(code)


@contextmanager
def _user_errors() -> Iterator[None]:
    """Turn every error a user can cause into one line and exit 2."""
    try:
        yield
    except ConfigError as exc:
        _fail(f"config error: {exc}")
    except WatchtowerError as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))


def _load(config_path: str | None, *, demo: bool = False) -> Config | None:
    """The config, or ``None`` when the demo should run.

    A ``[triage] rules`` file is loaded here too, as the triage will load it: a mistake in
    it is a config error before anything starts (the TUI would otherwise start without a
    monitor and show the error in a toast).
    """
    if demo:
        return None
    path = find_config(config_path)
    if path is None:
        return None
    config = load_config(path)
    if config.triage.rules:
        _load_rules(config)
    return config


def _load_for_command(settings: GlobalSettings) -> Config | None:
    """The config for a command other than the TUI: ``None`` (the demo) only with ``--demo``.

    No config anywhere is :class:`~watchtower.config.NoConfigError` (exit 2): a cron job
    that lost its config must not print the demo's items as if they were real.
    """
    if settings.demo:
        return None
    config = load_config(require_config(settings.config_path))
    if config.triage.rules:
        _load_rules(config)
    return config


def _load_rules(config: Config) -> "RuleSet":
    """The rules the triage runs for ``config`` (defaults merged with ``[triage] rules``).

    :class:`ConfigError` names the rules file and the key (``rule[0].category``).
    """
    from .core.triage.rules import load_rules

    return load_rules(config)


def _rules_summary(config: Config) -> str:
    ruleset = _load_rules(config)
    user = config.resolve(config.triage.rules)
    if user is None:
        where = "built-in defaults"
    elif ruleset.replace_defaults:
        where = f"{user} (replacing the default rules)"
    else:
        where = f"{user} merged over the defaults"
    count = len(ruleset.active_rules)
    return f"rules OK: {where} ({count} active rule{'' if count == 1 else 's'})"


@contextmanager
def _demo_or(config: Config | None, *, reveal_all: bool = False) -> Iterator[Config]:
    """Yield ``config``, or the demo config with its local server running.

    ``reveal_all``: one-shot commands (``fetch --demo``) see the whole scenario at once
    instead of the live schedule the TUI plays out.
    """
    if config is not None:
        yield config
        return
    from .demo import DemoServer, demo_config

    server = DemoServer(reveal_all=reveal_all)
    base = server.start()
    try:
        yield demo_config(base)
    finally:
        server.stop()


def _data_dir(cli_value: str | None, config: Config) -> Path:
    from .core.record.paths import resolve_data_dir

    path = resolve_data_dir(cli_value, config)
    return path / "demo" if config.demo else path


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]},
             epilog=GLOBALS_EPILOG)
@global_options
@click.option("--no-mouse", is_flag=True, help="Don't capture the mouse (plain terminal selection works).")
@click.version_option(__version__, prog_name="watchtower")
@click.pass_context
def cli(ctx: click.Context, no_mouse: bool) -> None:
    """watchtower: watch every platform where your organisation is mentioned.

    With no command, starts the terminal UI.  With no config anywhere, the TUI runs the
    built-in demo: a scripted incident across several platforms, served from a local
    HTTP server, so you can see it work offline.  The other commands need a config
    (or --demo): with none they stop with exit status 2.
    """
    if ctx.invoked_subcommand is not None:
        import gc

        gc.enable()  # paused by main() for the TUI's start-up only
        return
    settings = global_settings(ctx)
    with _user_errors():
        config = _load(settings.config_path, demo=settings.demo)
        run_tui(config, data_dir=settings.data_dir, operator=settings.operator, mouse=not no_mouse)


def run_tui(config: Config | None, *, data_dir: str | None, operator: str | None, mouse: bool = True) -> None:
    from .core.record.paths import ensure_data_dir, open_error_log, resolve_operator
    from .ui.app import WatchtowerApp

    with _demo_or(config) as cfg:
        ddir = _data_dir(data_dir, cfg)
        shared = cfg.data.group_shared
        # A full-screen UI hides stderr: tracebacks go to a file the pane status names.
        open_error_log(ensure_data_dir(ddir, group_shared=shared), group_shared=shared)
        app = WatchtowerApp(cfg, data_dir=ddir, operator=resolve_operator(operator, cfg))
        app.run(mouse=mouse and cfg.ui.mouse)


def _playbooks_summary() -> str:
    """The playbook, follow-up and crisis checklist files, read and cross-checked (a
    mistake is a ConfigError naming the file and the key: exit 2, before the TUI opens)."""
    from .core.respond.playbook_files import builtin

    data = builtin()
    return (f"playbooks OK: {data.directory} (playbooks/, followups.toml, crisis/: "
            f"{len(data.playbooks)} languages, {len(data.followups)} follow-up presets, "
            f"{len(data.checklist_text.get('en', {}))} crisis checks)")


@cli.command(epilog=GLOBALS_EPILOG)
@global_options
def check() -> None:
    """Validate the config and its rules file, then probe every source once.

    Exit status: 0 all well, 1 a source failed, 2 a mistake in the config or the rules,
    an env var a source needs that is not set, or no config (pass --config or --demo).
    """
    with _user_errors():
        config = _load_for_command(global_settings())
        if config is not None:
            check_environment(config)
        with _demo_or(config) as cfg:
            where = cfg.path or "built-in demo"
            click.echo(f"config OK: {where} ({len(cfg.sources)} sources, {len(cfg.platforms)} platforms)")
            click.echo(_rules_summary(cfg))
            click.echo(_playbooks_summary())
            import asyncio  # here: --help and the log commands do not need the event loop machinery

            failures = asyncio.run(_probe_all(cfg))
            failures += asyncio.run(_probe_qa(cfg))
    sys.exit(1 if failures else 0)


async def _probe_qa(cfg: Config) -> int:
    """Whether the Q&A page answers: during a crisis every reply links it (issue 18.6)."""
    from .core.respond.crisis import probe_qa_page
    from .core.text.safetext import one_line

    url = cfg.organisation.qa_url
    if not url:
        click.echo("  - Q&A page: none configured (organisation.qa_url); crisis replies have nothing to link to")
        return 0
    probe = await probe_qa_page(url)
    click.echo(f"  {'✓' if probe.ok else '✗'} Q&A page {one_line(url, limit=200)} {one_line(probe.message, limit=300)}")
    return 0 if probe.ok else 1


async def _probe_all(cfg: Config) -> int:
    from .core.pipeline.poller import Poller
    from .core.sources import build_source
    from .core.text.safetext import one_line

    sources = [build_source(s, base_dir=cfg.base_dir) for s in cfg.sources if s.enabled]
    poller = Poller(sources)
    failures = 0
    try:
        import asyncio

        results = await asyncio.gather(*(poller.probe(s.name) for s in sources))
    finally:
        await poller.aclose()
    for source, result in zip(sources, results):
        if result.ok:
            status = "OK (not modified)" if result.not_modified else "OK"
            mark = "⚠" if result.warnings else "✓"  # a 304 to a plain request, a feed cut short
            click.echo(f"  {mark} {source.name:<20} {source.platform:<12} {status}: {len(result.items)} items in {result.duration:.2f} s")
            for warning in result.warnings:
                click.echo(f"      warning: {one_line(warning, limit=300)}")
        else:
            failures += 1
            click.echo(f"  ✗ {source.name:<20} {source.platform:<12} {one_line(result.error, limit=300)} ({result.duration:.2f} s)")
    return failures


@cli.command(epilog=GLOBALS_EPILOG)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per item per line (the only format for now).")
@click.option("--no-archive", is_flag=True, help="Store nothing; print every item fetched.")
@global_options
def fetch(as_json: bool, no_archive: bool) -> None:
    """One poll round over every source: items with triage fields as JSON lines.

    The items are archived in the data dir (--data-dir, $WATCHTOWER_DATA_DIR, [data] dir,
    the user data dir), where `watchtower search`, `escalate-due` and the TUI find them,
    and only those not already in the archive are printed (what a cron job wants).
    --no-archive stores nothing and prints every item.
    --demo polls the built-in demo (its local server runs for the round).

    Problems per source go to stderr; the exit code is 1 if any source failed, 2 for a
    mistake in the config, an env var a source needs that is not set, or no config.
    """
    from .core.pipeline.monitor import Monitor
    from .core.text.safetext import one_line

    settings = global_settings()
    with _user_errors():
        config = _load_for_command(settings)
        if config is not None:
            check_environment(config)
        with _demo_or(config, reveal_all=True) as cfg:
            ddir = None if no_archive else _data_dir(settings.data_dir, cfg)
            monitor = Monitor(cfg, data_dir=ddir)
            if ddir is not None:
                _apply_rota_overrides(monitor, ddir, cfg)
            import asyncio

            rounds = asyncio.run(_fetch_round(monitor))
    failures = 0
    out = sys.stdout
    for rr in rounds:
        if not rr.poll.ok:
            failures += 1
            click.echo(f"watchtower: {rr.poll.source}: {one_line(rr.poll.error, limit=300)}", err=True)
        for warning in rr.poll.warnings:
            click.echo(f"watchtower: {rr.poll.source}: warning: {one_line(warning, limit=300)}", err=True)
        for item in rr.new:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
    out.flush()
    sys.exit(1 if failures else 0)


def _apply_rota_overrides(monitor, ddir: Path, cfg: Config) -> None:  # type: ignore[no-untyped-def]
    """Swaps recorded with `watchtower rota override` count for the items' coverage."""
    from .core.coverage.rota import OVERRIDE_KIND, overrides_from_entries
    from .core.record.log import HandoverLog

    log = HandoverLog(ddir, group_shared=cfg.data.group_shared, scan=False)
    overrides = overrides_from_entries(log.entries(kinds=[OVERRIDE_KIND]))
    monitor.rota.use_overrides(overrides)  # the triager's rota too (Monitor.rota)


async def _fetch_round(monitor):
    try:
        return await monitor.poll_all()
    finally:
        await monitor.aclose()


@cli.command(epilog=GLOBALS_EPILOG)
@click.argument("file", type=click.File("r", encoding="utf-8", errors="replace"), default="-")
@global_options
def triage(file) -> None:
    """Add severity, category, reasons, reach and coverage to item JSON lines (FILE or stdin).

    Use it to tune your rules against your own history: the rules, accounts and time
    zone come from the config (or the demo's with --demo); no config is exit 2.  Every
    field of a line is kept as given (``id`` too); the item's internal key is added as
    ``key``.
    """
    from .core.models import Item
    from .core.pipeline.monitor import Monitor
    from .core.triage.engine import triaged_record

    with _user_errors():
        config = _load_for_command(global_settings())
        if config is None:
            from .demo import demo_config

            config = demo_config("http://127.0.0.1")  # nothing is fetched: the URLs are never used
        monitor = Monitor(config)
    bad = 0
    for lineno, line in enumerate(file, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            item = Item.from_json(data)
        except (ValueError, RecursionError) as exc:
            bad += 1
            click.echo(f"watchtower: line {lineno}: skipped ({str(exc)[:100]})", err=True)
            continue
        monitor.triager.triage([item])
        click.echo(json.dumps(triaged_record(data, item), ensure_ascii=False))
    sys.exit(1 if bad else 0)


@cli.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False),
              help="Config file (TOML); also taken from before the command. Default: as for the TUI.")
@click.option("--data-dir", type=click.Path(file_okay=False),
              help="Data dir for the served TUI; also taken from before the command.")
@click.option("--operator", help="Your name in the log for the served TUI; also taken from before the command.")
@click.option("--demo", is_flag=True, help="Serve the built-in demo.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Bind address. Not loopback: needs --certfile/--keyfile or --i-know-this-is-public. Keep it local; reach it with ssh -L.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--max-sessions", default=2, show_default=True, type=click.IntRange(1, 64),
              help="Browser sessions at once (each runs its own app process); one more is refused.")
@click.option("--certfile", type=click.Path(dir_okay=False), help="TLS certificate (PEM), with --keyfile: serve https.")
@click.option("--keyfile", type=click.Path(dir_okay=False), help="TLS private key (PEM) for --certfile.")
@click.option("--public-url", help="The address browsers use (behind a proxy, or with --host 0.0.0.0). Default: from --host and --port.")
@click.option("--i-know-this-is-public", "public", is_flag=True,
              help="Serve on a non-loopback --host without TLS (the token crosses the network in clear text).")
@click.pass_context
def serve(ctx: click.Context, config_path: str | None, data_dir: str | None, operator: str | None, demo: bool,
          host: str, port: int, max_sessions: int, certfile: str | None, keyfile: str | None,
          public_url: str | None, public: bool) -> None:
    """The same TUI in a browser (textual-serve), for someone without a terminal client.

    A new token is made at every start and printed in the URL; without it every request
    gets 403.  See watchtower/serve.py.
    """
    from .serve import serve_tui

    # Options given before the command (watchtower --config X serve) count too.
    root = ctx.find_root().params
    config_path = config_path or root.get("config_path")
    data_dir = data_dir or root.get("data_dir")
    operator = operator or root.get("operator")
    demo = demo or bool(root.get("demo"))
    with _user_errors():
        if not demo:
            _load(config_path)  # a mistake in the config is exit 2 here, not in every session
        serve_tui(config_path=config_path, data_dir=data_dir, operator=operator, demo=demo, host=host, port=port,
                  max_sessions=max_sessions, certfile=certfile, keyfile=keyfile, public_url=public_url, public=public)


def _attach_log_commands() -> None:
    try:
        from .cli_log import handover_group, log_group
    except ImportError:  # pragma: no cover - during development only
        return
    cli.add_command(log_group, "log")
    cli.add_command(handover_group, "handover")


_attach_log_commands()


def _attach_due_commands() -> None:
    """``due`` (send what is due, for cron) and ``schedule`` (issue 18.3)."""
    from .cli_due import due_command, schedule_group

    cli.add_command(due_command, "due")
    cli.add_command(schedule_group, "schedule")


_attach_due_commands()


def _attach_oncall_commands() -> None:
    """``rota`` and the other on-call commands (issue 19), each module's ``COMMANDS``."""
    import importlib

    for name in ("cli_rota", "cli_alerts", "cli_search", "cli_watch"):
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:  # pragma: no cover - during development only
            if exc.name != f"{__package__}.{name}":
                raise
            continue
        for verb, command in module.COMMANDS.items():
            cli.add_command(command, verb)


_attach_oncall_commands()


def pause_gc_for_startup() -> None:
    """Hold the cyclic garbage collector until the TUI's first frame (``WatchtowerApp.on_ready``).

    Importing Textual and building the first screen allocate a great many long-lived
    objects; the collections they trigger find almost nothing to free and cost about a
    tenth of the time to the first frame (P8 in ``bench/``).  Commands other than the TUI
    turn it back on at once (see :func:`cli`).
    """
    import gc

    gc.disable()


def main() -> None:
    pause_gc_for_startup()
    try:
        cli(standalone_mode=True)
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
