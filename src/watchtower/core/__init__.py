"""The core of watchtower: models, sources, triage, storage and replies.

Nothing under this package imports textual or rich (``tests/test_import_hygiene.py``
proves it in a subprocess), so the CLI, scripts and cron jobs can use it without a UI.
"""
