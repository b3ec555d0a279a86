"""The global options: ``--config``, ``--data-dir``, ``--operator``, ``--demo``.

They mean the same before or after the command: ``watchtower --config prod.toml fetch``
is ``watchtower fetch --config prod.toml``.  Given in both places with different values,
the one after the command wins (the nearer one, as a wrapper script's defaults are
overridden by what is typed after them).  ``--demo`` anywhere means the demo.

Every command declares them with :func:`global_options` and reads the merged values with
:func:`global_settings`, which walks click's context chain (``watchtower`` -> ``log`` ->
``add``); ``log_group`` run alone (tests, ``log_group.main``) works the same way.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click

from .errors import ConfigError, WatchtowerError

__all__ = ["GLOBALS_EPILOG", "GlobalSettings", "global_options", "global_settings"]

F = TypeVar("F", bound=Callable[..., Any])

CONFIG_HELP = "Config file (TOML). Default: $WATCHTOWER_CONFIG, then the user config dir."
DATA_HELP = "Where the handover log and item archive live. Default: $WATCHTOWER_DATA_DIR, [data] dir, the user data dir."
OPERATOR_HELP = "Your name in the log. Default: $WATCHTOWER_OPERATOR, operator in the config, the OS user."
DEMO_HELP = "Use the built-in demo (its config, its own data dir) instead of a config."

GLOBALS_EPILOG = (
    "--config, --data-dir, --operator and --demo work before or after the command "
    "(watchtower --config prod.toml fetch = watchtower fetch --config prod.toml); "
    "given in both places, the one after the command wins."
)

#: The parameter names, as they appear in ``ctx.params``.
NAMES = ("config_path", "data_dir", "operator", "demo")


@dataclass(frozen=True)
class GlobalSettings:
    config_path: str | None = None
    data_dir: str | None = None
    operator: str | None = None
    demo: bool = False


def _options(operator: bool) -> list[Callable[[F], F]]:
    out = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False), default=None, help=CONFIG_HELP),
        click.option("--data-dir", "data_dir", type=click.Path(file_okay=False), default=None, help=DATA_HELP),
    ]
    if operator:
        out.append(click.option("--operator", "operator", default=None, help=OPERATOR_HELP))
    out.append(click.option("--demo", "demo", is_flag=True, default=False, help=DEMO_HELP))
    return out


def global_options(fn: F | None = None, *, operator: bool = True) -> Any:
    """Add the global options to a command; the function does not receive them.

    ``operator=False`` for a command whose own ``--operator`` means something else
    (``log list --operator ann`` filters by author).
    """

    def decorate(f: F) -> F:
        names = NAMES if operator else tuple(n for n in NAMES if n != "operator")

        @functools.wraps(f)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for name in names:
                kwargs.pop(name, None)
            return f(*args, **kwargs)

        wrapper.__watchtower_globals__ = names  # type: ignore[attr-defined]
        for option in reversed(_options(operator)):
            wrapper = option(wrapper)  # type: ignore[assignment]
        return wrapper  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate


def global_settings(ctx: click.Context | None = None) -> GlobalSettings:
    """The global options in force for the running command: the innermost given value wins.

    A command whose ``--operator`` is not the global one (``log list``) does not count
    for ``operator``: only contexts whose command declared the global options do.
    """
    ctx = ctx if ctx is not None else click.get_current_context()
    chain: list[click.Context] = []
    node: click.Context | None = ctx
    while node is not None:
        chain.append(node)
        node = node.parent
    values: dict[str, Any] = {}
    for node in reversed(chain):  # root first: later (inner) contexts override
        declared = getattr(node.command.callback, "__watchtower_globals__", None)
        for name in NAMES:
            if name not in node.params:
                continue
            if name == "operator" and declared is not None and "operator" not in declared:
                continue
            value = node.params[name]
            if value is None or value is False:
                continue
            values[name] = value
    return GlobalSettings(**values)


def fail(message: str) -> None:
    """One line on stderr and exit status 2: every error a user can cause."""
    click.echo(f"watchtower: {message}", err=True)
    sys.exit(2)


def user_errors(fn: F) -> F:
    """A command decorator: config, watchtower and OS errors become :func:`fail`, never a traceback."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except ConfigError as exc:
            fail(f"config error: {exc}")
        except WatchtowerError as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "))

    return wrapper  # type: ignore[return-value]
