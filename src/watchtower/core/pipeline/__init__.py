"""The pipeline both the CLI and the UI run: poll the sources, dedupe, judge, archive.

:mod:`.poller` fetches each source at most once at a time, with backoff and health;
:mod:`.monitor` wires the rest of the core together (coverage, triage, the archive) for
one round.  It is the top of the core: it may import any other core package.
"""
