"""P8's child: start the app headless with a tiny config, print the time of the first frame.

A script of its own so the measured process imports what ``watchtower`` imports and
nothing of the bench (``bench_common``, ``feedserver``).  Prints one JSON line,
``{"ready": <time.monotonic()>}``, when the main screen's first frame is up
(``events.Ready``), then exits.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def main() -> None:
    # As the ``watchtower`` command starts: watchtower.cli is imported, then main() pauses
    # the collector until the first frame.
    from watchtower.cli import pause_gc_for_startup

    pause_gc_for_startup()
    from textual import events

    import watchtower.ui.app as app_module
    from watchtower.config import parse_config
    from watchtower.ui.app import WatchtowerApp

    class FirstFrame(WatchtowerApp):
        # CSS_PATH is resolved next to the subclass's module: point it back at the app's.
        CSS_PATH = str(Path(app_module.__file__).with_name(WatchtowerApp.CSS_PATH))

        def on_ready(self, event: events.Ready) -> None:
            print(json.dumps({"ready": time.monotonic()}), flush=True)
            self.exit()

    config = parse_config({"sources": [{"kind": "rss", "name": "one", "platform": "News",
                                        "url": "http://127.0.0.1:9/feed.xml"}]})
    with tempfile.TemporaryDirectory() as tmp:
        FirstFrame(config, data_dir=Path(tmp) / "data", operator="bench",
                   start_polling=False).run(headless=True, size=(160, 50))


if __name__ == "__main__":
    main()
    sys.exit(0)
