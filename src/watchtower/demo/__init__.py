"""The built-in demo: a scripted incident at a library, served over local HTTP.

With no config, ``watchtower`` starts a :class:`DemoServer` on ``127.0.0.1`` (a random free
port), builds :func:`demo_config` pointing at it and runs the **real** connectors and poller
against it.  So the demo exercises the same path as production: HTTP, conditional GETs
(ETag / 304), JSON and feed parsing, triage, coverage.

The organisation is the fictional *Bibliotheek Rivierstad* (a Dutch city library with an
English-speaking audience too).  The scenario acts out every situation in the two seed
texts (docs/product.md): a post from the wrong account, incorrect information and its
correction, prank abuse, a proper grievance, spam, a hacked account ("gehackt"), a
national news story about a data breach, an ambassador who corrects someone, a
14-follower grumble, plus questions, praise and ordinary mentions, in English and Dutch,
spread over seven platforms.

Paths served (everything else is 404; only GET and HEAD):

=====================================================  =========================================
path                                                   shaped like
=====================================================  =========================================
``/x/mentions.json``                                   X API v2 ``data[]`` with an inlined author
``/facebook/mentions.json``                            Graph API ``data[]`` (posts and comments)
``/instagram/mentions.json``                           Graph API media ``data[]``
``/api/v1/timelines/tag/{tag}``                        Mastodon tag timeline: ``[Status]``
``/api/v2/search``                                     Mastodon search: ``{accounts, statuses, hashtags}``
``/xrpc/app.bsky.feed.searchPosts``                    Bluesky ``{posts: [postView]}``
``/xrpc/app.bsky.feed.getAuthorFeed``                  Bluesky ``{feed: [{post}]}``
``/xrpc/app.bsky.actor.getProfiles``                   Bluesky ``{profiles: [profileViewDetailed]}``
``/search.json``, ``/r/{sub}/new.json``                Reddit ``Listing`` of ``t3`` posts
``/news/dagblad.rss``                                  RSS 2.0, a national paper (weight 3)
``/news/forum.atom``                                   Atom 1.0, a local forum (weight 1)
``/qa``                                                the organisation's Q&A page (HTML)
=====================================================  =========================================

**The schedule.**  Scenario time is ``clock() * speed`` seconds (``clock`` is monotonic
seconds since :meth:`DemoServer.start`; ``speed`` defaults to 1).  At scenario time 0 every
*backlog* item is visible: what arrived overnight and earlier, with ``published`` on real
wall-clock dates (last weekend, yesterday evening 23:40, the most recent night 00:15–05:20
in Europe/Amsterdam, and a few minutes ago), so some are UNCOVERED under the demo rota.
Then one *live* item is revealed every ~5-6 s for the first ~2 minutes; each carries
``published`` = the wall-clock moment it is revealed.  After the script ends
(:data:`SCRIPT_END`), and only when ``loop=True`` (the default), a gentle trickle of
ordinary mentions follows: one every :data:`LOOP_PERIOD` scenario seconds, rotating over the
platforms, each with a fresh id (``demo-L1``, ``demo-L2``...).  The incidents are never
replayed, so alerts do not fire twice.  Every document is capped to its newest
:data:`MAX_PER_DOC` items.

Tests reveal everything at once with ``DemoServer(reveal_all=True)`` (all scripted items,
no loop items) or move a fake ``clock``.

Everything is deterministic given ``now`` (the wall-clock start) and the clock: fixed ids per
scenario item (``demo-17``; platform-shaped native ids derived from it), no randomness, no
network beyond 127.0.0.1 (every link in the content points at ``*.example`` hosts or at the
demo server).  The demo is not core (the core never imports it, see docs/architecture.md): it sits
beside the UI and is started by the CLI.  It imports neither textual nor rich.

:mod:`.script` is the scenario (who posts what, when, and the config that watches it);
:mod:`.server` renders each platform's documents from it and serves them.
"""

from __future__ import annotations

from .script import (
    LOOP_PERIOD,
    MAX_PER_DOC,
    ORG_NAME,
    SCRIPT_END,
    SITUATIONS,
    TIMEZONE,
    demo_config,
    scenario_summary,
)
from .server import DemoServer

__all__ = [
    "DemoServer",
    "demo_config",
    "scenario_summary",
    "ORG_NAME",
    "TIMEZONE",
    "SCRIPT_END",
    "LOOP_PERIOD",
    "MAX_PER_DOC",
    "SITUATIONS",
]
