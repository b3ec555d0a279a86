"""The core of watchtower: models, sources, triage, storage and replies.

One package per concept (docs/architecture.md draws how they depend on each other):
``fetch/`` (bounded HTTP, feed parsing), ``sources/`` (the connectors), ``text/`` (safe
text, language, length), ``triage/``, ``coverage/`` (the rota), ``respond/`` (replies,
posting, playbooks, crisis mode, escalation, schedules), ``record/`` (the log, the archive,
decisions and the row-state policy), ``report/`` (the handover, open work), ``alert/``,
``pipeline/`` (the poller and the monitor) and ``desk/`` (the live shift); ``models.py``
holds the value types.

Nothing under this package imports textual or rich (``tests/test_import_hygiene.py``
proves it in a subprocess), so the CLI, scripts and cron jobs can use it without a UI.
"""
