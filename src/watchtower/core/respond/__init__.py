"""Responding: replies, posting, playbooks, crisis mode, our own posts, escalation, schedules.

Everything that acts on an item once it is seen: the reply templates and the reply-once
guard (:mod:`.replies`), posting through a platform's API (:mod:`.posting`), the
playbooks per category (:mod:`.playbooks`), crisis mode with its checklist and staff
briefing (:mod:`.crisis`), deleting or correcting our own posts (:mod:`.ownposts`), paging
and escalating alerts nobody acknowledges (:mod:`.escalation`) and posts scheduled to go
out later (:mod:`.schedule`).
"""
