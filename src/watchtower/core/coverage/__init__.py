"""Coverage: who is on call when, in the organisation's time zone.

:mod:`.rota` turns the configured shifts and the logged overrides into a timeline and
judges whether an item arrived covered, :mod:`.rota_ics` exports that timeline as an
iCalendar file, and :mod:`.when` reads times and durations as people type them.
"""
