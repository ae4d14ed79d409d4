"""Words tests look for (or make sure are absent) in what people are sent, shared by several test modules."""

from __future__ import annotations

# What a participant's chat never says: a locked phone screen shows the first lines of any message.
REVEALING = ("ma túy", "xét nghiệm", "cai nghiện", "nghiện")
# Words that must never reach a lock screen unless the participant asked for explicit wording: every text in the
# catalogs, in any language.
REVEALING_IN_CATALOGS = ("ma túy", "ma tuý", "cai nghiện", "nghiện", "xét nghiệm", "heroin", "drug", "rehab")
# The crisis reply: thanks, the emergency number, the national hotline and its hours.
SAFETY = ("Cảm ơn bạn đã nói với mình", "115", "096 306 1414 (+84 96 306 1414)", "13:00–20:30")
# Nguyễn Văn An as staff see her in lists and on buttons.
AN = "Nguyễn Văn An (#1)"
STALE = "Nút này đã hết hiệu lực"
