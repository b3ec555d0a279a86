"""The fetch layer: bytes in from the network, parsed entries out.

The one bounded HTTP client (:mod:`.http`, with its asyncio network backend in
:mod:`.transport`), feed parsing (:mod:`.feeds`) and the child processes that contain a
runaway parse (:mod:`.parsepool`).  It sits below the connectors (``core/sources/``),
reports failures as :class:`watchtower.errors.SourceError` and knows nothing about
triage, the record, responding or the screen (``.importlinter`` keeps it so).
"""
