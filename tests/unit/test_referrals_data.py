"""Ready replies (data the counselling team words) and the referral figures a report prints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from bot.data import canned_replies_source
from bot.domain.canned import parse_canned_replies
from bot.domain.checkin import NEED_KINDS, QUESTIONS, needs_to_request, stated_needs
from bot.domain.referral_stats import summarise
from bot.flows.support import SUPPORT_KINDS
from tests.support.texts import REVEALING_IN_CATALOGS as REVEALING


def test_the_shipped_ready_replies_are_complete_and_discreet() -> None:
    replies = parse_canned_replies(canned_replies_source())
    assert len(replies) >= 4
    for reply in replies:
        for language in ("vi", "en"):
            assert reply.label_in(language) and reply.text_in(language)
            assert not any(word in reply.text_in(language).lower() for word in REVEALING)


@pytest.mark.parametrize(
    ("replies", "message"),
    [
        ([{"key": "a", "label": {"vi": "A"}, "text": {"vi": "x"}}] * 2, "unique"),
        ([{"key": "has space", "label": {"vi": "A"}, "text": {"vi": "x"}}], "unique short keys"),
        ([{"key": "a", "label": {"en": "A"}, "text": {"vi": "x"}}], "no Vietnamese"),
    ],
)
def test_a_bad_replies_file_is_refused(replies: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_canned_replies(json.dumps({"replies": replies}))


def test_a_reply_falls_back_to_vietnamese() -> None:
    (reply,) = parse_canned_replies(json.dumps({"replies": [{"key": "a", "label": {"vi": "A"}, "text": {"vi": "x"}}]}))
    assert reply.text_in("en") == "x"


@dataclass
class _Referral:
    kind: str
    urgency: str
    created_at: datetime
    accepted_at: datetime | None = None
    first_reply_at: datetime | None = None
    outcome: str | None = None
    source: str = "help"


T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def minutes(n: float) -> datetime:
    return T0 + timedelta(minutes=n)


def test_figures_count_access_and_the_median_time_to_a_first_human_reply() -> None:
    stats = summarise(
        [
            _Referral("counselling", "urgent", T0, minutes(2), minutes(4), "advised"),
            _Referral("counselling", "normal", T0, minutes(10), minutes(30), "referred"),
            _Referral("counselling", "normal", T0, minutes(5), minutes(9)),
            _Referral("counselling", "normal", T0, minutes(7)),  # taken, not answered in the chat yet
            _Referral("counselling", "normal", T0, outcome="withdrawn"),  # never taken
            _Referral("training", "normal", T0, minutes(60), source="checkin_needs"),  # not counselling
        ]
    )
    assert stats.requested == 6 and stats.urgent == 1
    assert stats.by_kind == {"counselling": 5, "training": 1}
    assert stats.by_source == {"checkin_needs": 1, "help": 5}
    assert stats.accessed_counselling == 4 and stats.replied == 3
    assert stats.median_minutes_to_first_reply == 9.0
    assert stats.median_minutes_to_accept == 6.0
    assert stats.outcomes == {"advised": 1, "referred": 1, "withdrawn": 1}


def test_no_referrals_no_median() -> None:
    stats = summarise([])
    assert stats.requested == 0 and stats.median_minutes_to_first_reply is None
    assert set(stats.as_dict()) >= {"accessed_counselling", "median_minutes_to_first_reply"}


def test_needs_stated_in_a_check_in_become_requests_of_their_kind_never_twice() -> None:
    answers: dict[str, object] = {"needs": ["papers", "livelihood", "training", "forged"], "call": "no"}
    assert stated_needs(answers) == ("training", "livelihood", "papers")  # the question's order, nothing else
    assert stated_needs({"needs": "skipped"}) == () and stated_needs({"needs": []}) == () and stated_needs({}) == ()
    assert set(NEED_KINDS.values()) <= set(SUPPORT_KINDS) and set(NEED_KINDS) == set(QUESTIONS["needs"].options)
    assert needs_to_request(("training", "job"), {"job", "counselling"}) == (["training"], ["job"])
    assert needs_to_request(("job",), set()) == (["job"], [])
