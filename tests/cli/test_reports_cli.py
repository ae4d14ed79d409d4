"""`aftercare report`, `target` and `handover` through the command line: the JSON contract against the figures
computed by hand (tests/support/reports.py), and the refusals as one JSON object with exit code 1."""

from __future__ import annotations

import asyncio

from bot.app import Application
from tests.fakes.clock import FakeClock
from tests.support.cli import call, ok_json
from tests.support.records import audit_trail
from tests.support.reports import HD_INDICATORS, HD_NOVEMBER, build_communes


async def test_the_report_as_json_and_its_bad_inputs(app: Application, clock: FakeClock, env: dict[str, str]) -> None:
    await build_communes(app, clock)
    out = await asyncio.to_thread(ok_json, env, "report", "--unit", "HD", "--period", "2026-11")
    assert (out["unit"], out["period"]["from"], out["period"]["to"]) == ("HD", "2026-11-01", "2026-11-30")
    assert out["counts"] == HD_NOVEMBER
    assert {name: (i["numerator"], i["denominator"], i["value"], i["target"])
            for name, i in out["indicators"].items()} == HD_INDICATORS  # fmt: skip
    assert "communes" not in out
    province = await asyncio.to_thread(ok_json, env, "report", "--unit", "HN", "--period", "2026-11",
                                       "--format", "json")  # fmt: skip
    assert [row["unit"] for row in province["communes"]] == ["CG", "HD", "TX"]
    assert province["communes"][1]["counts"] == HD_NOVEMBER
    assert [e.detail["period"] for e in await audit_trail(app, "report_made")] == ["2026-11", "2026-11"]

    # Targets and the number handed over, then the report uses them.
    target = await asyncio.to_thread(ok_json, env, "target", "set", "--unit", "HN", "--indicator", "job_support",
                                     "--value", "60")  # fmt: skip
    assert target == {"unit": "HN", "indicator": "job_support", "target": 0.6}
    await asyncio.to_thread(ok_json, env, "handover", "set", "--unit", "HD", "--month", "2026-11", "--people", "4")
    again = await asyncio.to_thread(ok_json, env, "report", "--unit", "HD", "--period", "2026-11")
    assert again["indicators"]["job_support"]["target"] == 0.6
    assert again["indicators"]["managed"] == {"numerator": 4, "denominator": 4, "value": 1.0, "target": 1.0,
                                              "met": True}  # fmt: skip

    for args, message in [
        (("report", "--unit", "HD", "--period", "2026-13"), "no such date"),
        (("report", "--unit", "HD", "--period", "x" * 10_000), "is not a period"),
        (("report", "--unit", "ZZ", "--period", "2026-11"), "no unit with code ZZ"),
        (("report", "--unit", "HD", "--period", "2026-11", "--format", "pdf"), "give --out FILE"),
        (("report", "--unit", "HD", "--period", "2026-11", "--format", "doc"), "json, xlsx or pdf"),
        (("target", "set", "--unit", "HD", "--indicator", "job_support", "--value", "60"), "for a province"),
        (("target", "set", "--unit", "HN", "--indicator", "job_support", "--value", "600"), "from 0 to 100"),
        (("handover", "set", "--unit", "HN", "--month", "2026-11", "--people", "4"), "for a commune"),
        (("handover", "set", "--unit", "HD", "--month", "11/2026", "--people", "4"), "YYYY-MM"),
        (("handover", "set", "--unit", "HD", "--month", "2026-11", "--people", "-1"), "between 0 and"),
    ]:
        result = await asyncio.to_thread(call, env, *args, "--json")
        assert result.exit_code == 1, args
        assert message in result.stdout[:300], (args, result.stdout[:300])
