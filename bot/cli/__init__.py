"""`aftercare`: the operator's command line. With --json every command prints exactly one JSON object.

One module per command group (`units`, `staff`, `participants`, `chats`, `outbox`, `reports`, `database`, `audit`,
`privacy`, `keys`; the root and its ungrouped commands in `root`), on the helpers of `common`. The groups are
attached here, in the order `--help` lists them.

Start-up is kept light on purpose (a cron `tick` runs every minute): these modules import only typer and small domain
modules; the application, the database layer and the services are imported when a command runs, and a platform's
library (aiogram, httpx) only when the command talks to that platform.
"""

from __future__ import annotations

from bot.cli import audit, chats, database, keys, outbox, participants, privacy, reports, retention, staff, units
from bot.cli.root import cli

__all__ = ["cli", "main"]

cli.command("report")(reports.report)
cli.command("purge")(retention.purge)

for _name, _group in (
    ("db", database.db_cli),
    ("unit", units.unit_cli),
    ("point", units.point_cli),
    ("staff", staff.staff_cli),
    ("participant", participants.participant_cli),
    ("absence", participants.absence_cli),
    ("outbox", outbox.outbox_cli),
    ("escalation", reports.escalation_cli),
    ("review", reports.review_cli),
    ("referral", reports.referral_cli),
    ("target", reports.target_cli),
    ("handover", reports.handover_cli),
    ("chat", chats.chat_cli),
    ("audit", audit.audit_cli),
    ("privacy", privacy.privacy_cli),
    ("keys", keys.keys_cli),
):
    cli.add_typer(_group, name=_name)


def main() -> None:
    cli(prog_name="aftercare")
