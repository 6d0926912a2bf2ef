"""Posts: the composer with X's weighted count, thread parts (cut automatically or written by
hand) and an image with its description; a post's page (edit, move, cancel, publish now); the
"events of the day" planner with its drafts to review and approve, and what they cost on X.

Every change is one call to :mod:`campaign.social.posts` or :mod:`campaign.social.planning`.
One module per part of the pages; :data:`router` gathers their routes, the composer's and the
planner's fixed paths (``/posts/new``, ``/posts/planner``) before ``/posts/{post_id}``, which
would take them otherwise.
"""

from __future__ import annotations

from fastapi import APIRouter

from campaign.dashboard.pages.posts import composer, listing, planner, post

router = APIRouter()
for part in (listing, composer, planner, post):
    router.include_router(part.router)
