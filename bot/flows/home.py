"""The participant's main menu and wording shared by flows and by pushed messages."""

from __future__ import annotations

from bot.core.i18n import Translator
from bot.core.messages import Button, OutboundMessage
from bot.domain.entities import Unit
from bot.flows import checkin, participant, support


def participant_home(t: Translator) -> list[OutboundMessage]:
    menu, appointments, helping = participant.Verbs, checkin.Verbs, support.Verbs
    return [
        OutboundMessage(
            t._("Main menu. What would you like to do?"),
            (
                Button(t._("Check in this month"), appointments.START),
                Button(t._("My appointments"), appointments.SCHEDULE),
                Button(t._("Help / counselling"), helping.MENU),
                Button(t._("My information"), menu.INFO),
                Button(t._("Settings"), menu.SETTINGS),
                Button(t._("Message the person accompanying you"), menu.CADRE),  # last: Zalo's numbers stay
            ),
        )
    ]


def where_line(t: Translator, unit: Unit | None) -> str:
    """Where and when tests take place, from the commune's settings."""
    if unit is not None and unit.test_place:
        if unit.test_hours:
            return t._("Place: {place}, {hours}.", place=unit.test_place, hours=unit.test_hours)
        return t._("Place: {place}.", place=unit.test_place)
    return t._("The person accompanying you will tell you the place and time.")
