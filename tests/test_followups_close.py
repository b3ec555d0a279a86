"""Follow-ups close one at a time (issue 18, point 10), on a real log in a tmp dir.

The follow-ups screen wrote ``data={"followup_id": ...}`` while the decisions read
``data["followup"]``: marking the correction repost done also closed the private e-mail of
the same item, and a follow-up whose item had left memory (no item id on the entry) could
never be closed at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

from watchtower.core.models import Item
from watchtower.core.record.decisions import followups, item_states
from watchtower.core.record.log import HandoverLog
from watchtower.core.respond.schedule import close_followup

T0 = datetime(2026, 11, 3, 14, 0, tzinfo=timezone.utc)


def _two_followups(log: HandoverLog) -> Item:
    item = Item.create(platform="X", source="x", native_id="1", author="@jan", text="Jullie gaven foute info!", published=T0)
    log.append("followup_set", "Post the correction again", operator="ann", item=item,
               data={"due": (T0 + timedelta(hours=3)).isoformat(), "preset": "repost-correction"})
    log.append("followup_set", "Email the complainant privately", operator="ann", item=item,
               data={"due": (T0 + timedelta(hours=1)).isoformat(), "preset": "email-complainant"})
    return item


def test_the_screens_followup_id_closes_that_one_only(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    item = _two_followups(log)
    repost, email = sorted(followups(log.entries(), T0), key=lambda f: f.text)[::-1]
    assert repost.text.startswith("Post") and email.text.startswith("Email")
    # What the follow-ups screen writes today:
    log.append("followup_done", repost.text, operator="bob", item=item, data={"followup_id": repost.id})
    assert [f.text for f in followups(log.entries(), T0)] == ["Email the complainant privately"]
    assert [f.text for f in item_states(log.entries())[item.id].followups] == ["Email the complainant privately"]


def test_a_followup_whose_item_left_memory_still_closes(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    _two_followups(log)
    email = next(f for f in followups(log.entries(), T0) if f.text.startswith("Email"))
    # The screen passes item=None when the item is no longer in memory: no item id at all.
    log.append("followup_dismissed", email.text, operator="bob", data={"followup_id": email.id})
    assert [f.text for f in followups(log.entries(), T0)] == ["Post the correction again"]


def test_close_followup_names_it_and_its_item(data_dir: Path) -> None:
    log = HandoverLog(data_dir)
    item = _two_followups(log)
    repost = next(f for f in followups(log.entries(), T0) if f.text.startswith("Post"))
    entry = close_followup(log, repost, operator="bob")
    assert (entry.kind, entry.item_id, entry.platform, entry.data) == ("followup_done", item.id, "X", {"followup": repost.id})
    email = next(f for f in followups(log.entries(), T0))
    close_followup(log, email, operator="bob", dismissed=True)
    assert followups(log.entries(), T0) == []
