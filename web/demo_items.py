"""Demo items (事项清单) for the demo policies, added while they are drafts so publishing
announces them once (`web/demo_data/policy_items.json`, keyed by 文号)."""

from __future__ import annotations

import json
from pathlib import Path

from core.db import Database
from policies.service import items
from policies.views import PolicyView

ITEMS_FILE = Path(__file__).resolve().parent / "demo_data" / "policy_items.json"


async def add_to_draft(db: Database, draft: PolicyView, actor: str) -> int:
    """The demo items of this draft, if it has any; returns how many were added."""
    payload = json.loads(ITEMS_FILE.read_text(encoding="utf-8")).get(draft.doc_no or "", [])
    if not payload:
        return 0
    async with db.session() as session:
        await items.set_items(session, draft.id, items.parse_items(payload), actor)
    return len(payload)
