"""Judging items: how bad is this post, and is it one we watch.

:mod:`.engine` is the triage itself (keyword rules, reach, spikes, the verdict on each
item), :mod:`.rules` loads and compiles the keyword rules, and :mod:`.watchlist` folds
watched, muted and snoozed authors and items from the log.  What to do about a bad one
(crisis mode included) is :mod:`watchtower.core.respond`.
"""
