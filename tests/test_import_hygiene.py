"""watchtower.core (and the config) must never pull in textual or rich."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import watchtower.core


def _core_modules() -> list[str]:
    names = ["watchtower.core", "watchtower.config"]
    for mod in pkgutil.walk_packages(watchtower.core.__path__, "watchtower.core."):
        names.append(mod.name)
    return names


def test_core_never_imports_textual_or_rich() -> None:
    modules = _core_modules()
    assert len(modules) > 5, modules
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "print(json.dumps(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_ui_does_import_textual() -> None:
    """The check above is only meaningful if the detector sees a real import."""
    code = "import sys, watchtower.ui.app; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
