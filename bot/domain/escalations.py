"""What an escalation (a problem someone must act on) is about, as the database stores it."""

from __future__ import annotations

from enum import StrEnum


class EscalationKind(StrEnum):
    MISSED_CHECKIN = "missed_checkin"
    UNREACHABLE = "unreachable"  # every chat of an active person is unreachable
    RISKY_CHECKIN = "risky_checkin"
    CRISIS = "crisis"  # a message about suicide, self-harm, overdose or danger: urgent, past quiet hours
    TEST_RESULT = "test_result"  # positive, refused or missed test: one per test ("test_result:obligation:<id>"),
    # or per result for a test outside the schedule ("test_result:<result id>")
