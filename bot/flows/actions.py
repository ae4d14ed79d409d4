"""Button actions that messages the bot pushes (reminders, escalations) may carry; handlers accept them in any
flow, and the server re-checks every one (the payload names a record, never a permission)."""

from __future__ import annotations

CHECKIN_START = "checkin:start"
MY_SCHEDULE = "menu:schedule"
TEST_ACK = "test:ack:"
ESCALATION_ACK = "esc:ack:"
REFERRAL_REQUEST = "referral:counselling"
REFERRAL_DECLINE = "referral:decline"
INBOX_OPEN = "inbox:open:"
HELP_MENU = "help:menu"
