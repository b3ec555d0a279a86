"""Alerting: reaching the on-call person without burying them.

:mod:`.alerts` decides what alerts and sends it (terminal, Apprise push and chat) with
cooldowns; :mod:`.termnotify` builds the bytes that make a terminal ring or show a
desktop notification, safely.
"""
