"""The first frame imports only what draws it (bench P8), checked by module presence, not time.

Each check runs in a fresh interpreter, so other tests' imports cannot hide a regression.
The heavy libraries below are imported where they are used: the network stack when the
first poll goes out, the stores (sqlite, TinyDB) in the worker that opens them after
mount, Jinja2 when a reply is drafted, Apprise when an alert is pushed, the feed parsers
when a feed arrives, pydantic not at all for the config.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.slow  # every test here starts a process

HEAVY = [
    "pydantic", "pydantic_core", "httpx", "httpcore", "anyio", "h11", "jinja2", "apprise", "tinydb", "filelock",
    "sqlite3", "lxml", "fastfeedparser", "feedparser", "holidays", "regex",  # (textual itself imports platformdirs)
]


def _loaded(code: str) -> list[str]:
    prog = textwrap.dedent(code) + textwrap.dedent(f"""
        import json, sys
        print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
    """)
    out = subprocess.run([sys.executable, "-c", prog], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_app_and_parsing_a_config_loads_nothing_heavy() -> None:
    assert _loaded("""
        from watchtower.config import parse_config
        from watchtower.ui.app import WatchtowerApp
        cfg = parse_config({"sources": [{"kind": "rss", "name": "a", "platform": "News", "url": "http://127.0.0.1:9/x"}]})
        WatchtowerApp(cfg, data_dir=None, operator="t", start_polling=False)
    """) == []


def test_the_first_frame_of_the_main_screen_loads_nothing_heavy() -> None:
    # The stores' worker is switched off: what it imports (sqlite, TinyDB, the HTTP client)
    # runs beside the first frame, not in it, and would make this check racy.
    assert _loaded("""
        import tempfile
        from pathlib import Path
        import watchtower.ui.app as app_module
        from watchtower.config import parse_config
        from watchtower.ui.app import WatchtowerApp

        class FirstFrame(WatchtowerApp):
            CSS_PATH = str(Path(app_module.__file__).with_name(WatchtowerApp.CSS_PATH))

            def _open_stores(self):
                pass

            def on_ready(self, event):
                self.exit()

        cfg = parse_config({"sources": [{"kind": "rss", "name": "a", "platform": "News", "url": "http://127.0.0.1:9/x"}]})
        with tempfile.TemporaryDirectory() as tmp:
            FirstFrame(cfg, data_dir=Path(tmp), operator="t", start_polling=False).run(headless=True, size=(100, 30))
    """) == []


def test_cli_help_stays_light() -> None:
    loaded = _loaded("""
        import sys
        sys.argv = ["watchtower", "--help"]
        from watchtower.cli import main
        try:
            main()
        except SystemExit:
            pass
    """)
    assert loaded == []


def test_config_errors_do_not_need_pydantic(tmp_path) -> None:
    bad = tmp_path / "c.toml"
    bad.write_text('[[sources]]\nkind = "rss"\nname = "n"\nplatform = "p"\nurl = "ftp://x/"\n', encoding="utf-8")
    assert _loaded(f"""
        from watchtower.config import ConfigError, load_config
        try:
            load_config({str(bad)!r})
        except ConfigError as exc:
            assert "sources[0].url: expected a http:// or https:// URL with a host" in str(exc), exc
        else:
            raise AssertionError("accepted")
    """) == []

