"""Ready-made replies for counsellors: one tap sends a kind, tested sentence in the person's own language.

Data, not code (bot/data/canned_replies.json, or the operator's file), so the counselling team can word them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CannedReply:
    key: str
    label: dict[str, str]
    text: dict[str, str]

    def label_in(self, language: str) -> str:
        return self.label.get(language) or self.label["vi"]

    def text_in(self, language: str) -> str:
        return self.text.get(language) or self.text["vi"]


def parse_canned_replies(text: str) -> tuple[CannedReply, ...]:
    """Every reply needs a unique key and Vietnamese label and text; a bad file stops the start, not a chat."""
    replies = tuple(CannedReply(str(r["key"]), dict(r["label"]), dict(r["text"])) for r in json.loads(text)["replies"])
    keys = [r.key for r in replies]
    if len(set(keys)) != len(keys) or not all(k.isidentifier() and len(k) <= 24 for k in keys):
        raise ValueError("canned replies need unique short keys (letters, digits, _)")
    for reply in replies:
        if not reply.label.get("vi") or not reply.text.get("vi"):
            raise ValueError(f"canned reply {reply.key!r} has no Vietnamese label or text")
    return replies
