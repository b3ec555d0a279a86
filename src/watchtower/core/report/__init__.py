"""Reports for people over the whole shift: the handover and the work still open.

:mod:`.handover` folds the log and the archived items into the handover summary (Markdown
or JSON), with the scheduled posts still to go out; :mod:`.openwork` lists every item that
still needs a human and how fast we answered, with its escalation chain.  They read the
record, the responses (scheduled posts, escalation), the rota and the watch-list, so they
sit above all of them.
"""
