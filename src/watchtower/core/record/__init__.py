"""The record: what was seen and decided, where it is kept, and the one policy read from it.

The handover log (:mod:`.log`) and the item archive (:mod:`.archive`) in the data
directory (:mod:`.paths`); what they mean, derived and never stored twice: the decisions
(:mod:`.decisions`) and the row-state / needs-a-human / handled policy (:mod:`.policy`,
which the Desk, escalation and open work all read); and search over the archive
(:mod:`.search`).  The reports built on it are :mod:`watchtower.core.report`.
"""
