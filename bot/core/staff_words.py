"""The staff variants of prompts both audiences see: the same msgid under msgctxt "staff", for "anh/chị".

A prompt shown to whoever holds the phone (a sticker, an empty message, an unknown command, a number not on the
menu, the language question…) is one msgid in the code. Its plain Vietnamese text speaks to a participant ("bạn";
the bot is "mình"); staff are addressed "anh/chị" and the bot does not call itself "mình" to them. Listing the msgid
here is what gives it a staff wording: extraction puts it in the catalogs under msgctxt "staff", the translator gets
its Vietnamese text there, and a translator made with `Catalogs.translator(lang, audience=Audience.STAFF)` prefers it
to the plain entry. Each msgid must be exactly the one the code shows (a test checks it has a plain entry).

A text only one audience reads needs no entry: it is written for its reader in the first place. A text whose reader
is not known (a group chat, an unreadable record) is worded without "bạn" or "anh/chị" instead.
"""

from __future__ import annotations


def pgettext(context: str, message: str) -> str:
    """An extraction marker (babel's default `pgettext` keyword): the msgid under its msgctxt; returns the msgid."""
    del context
    return message


# Each entry has its own TRANSLATORS comment: babel gives a comment only to the call right below it.
STAFF_VARIANTS: tuple[str, ...] = (
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "I can only read text messages. Please type, or choose one of the options."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Your message was empty. Please type something, or choose one of the options."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "That message is too long for me (more than {limit} characters). Please send a shorter one."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext(
        "staff",
        "You are sending messages very quickly. Please wait a minute, then write again: "
        "the messages sent in the meantime were not read.",
    ),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "I don't know that command. Here is what I can do."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Sorry, I didn't understand. Please choose one of the options."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Sorry, something went wrong on our side. Please try again in a moment."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "There is no such option. Please reply with one of these numbers:"),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Please answer with one of the options."),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Which language would you like me to use?"),
    # TRANSLATORS: to staff: "anh/chị"; the bot is "trợ lý" or unnamed, never "mình".
    pgettext("staff", "Done. I will write to you in English from now on."),
)
