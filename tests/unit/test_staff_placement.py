"""Where a staff member may be placed (the console's add and change forms, `change_placement`): an admin in a
province, cadres and officers in a commune, a counsellor only at a counselling point serving their commune or its
province (a counsellor of the province: any point of it)."""

from __future__ import annotations

import pytest

from bot.domain.entities import CounsellingPoint, Role, Unit, UnitLevel
from bot.services.staff_changes import PROBLEMS, placement_problem

PROVINCE = Unit(1, "HN", "Thành phố Hà Nội", UnitLevel.PROVINCE, None)
HA_DONG = Unit(2, "HD", "Phường Hà Đông", UnitLevel.COMMUNE, 1)
KIEN_HUNG = Unit(3, "KH", "Phường Kiến Hưng", UnitLevel.COMMUNE, 1)
HA_LONG = Unit(5, "HL", "Phường Hạ Long", UnitLevel.COMMUNE, 4)
UNITS = {u.id: u for u in (PROVINCE, HA_DONG, KIEN_HUNG, HA_LONG)}


def point(unit: Unit) -> CounsellingPoint:
    return CounsellingPoint(10 + unit.id, unit.id, f"Điểm tư vấn {unit.name}", "", "", "")


@pytest.mark.parametrize(
    ("role", "unit", "at", "problem"),
    [
        (Role.ADMIN, PROVINCE, None, ""),
        (Role.ADMIN, HA_DONG, None, "admin_province"),
        (Role.OFFICER, HA_DONG, None, ""),
        (Role.OFFICER, PROVINCE, None, "commune_role"),
        (Role.CADRE, PROVINCE, None, "commune_role"),
        (Role.CADRE, HA_DONG, HA_DONG, "point_only_counsellor"),
        (Role.COUNSELLOR, HA_DONG, None, "needs_point"),
        (Role.COUNSELLOR, HA_DONG, HA_DONG, ""),
        (Role.COUNSELLOR, HA_DONG, PROVINCE, ""),  # a point serving the whole province
        (Role.COUNSELLOR, HA_DONG, KIEN_HUNG, "point_elsewhere"),  # the commune next door's point
        (Role.COUNSELLOR, HA_DONG, HA_LONG, "point_elsewhere"),  # another province's
        (Role.COUNSELLOR, PROVINCE, KIEN_HUNG, ""),  # a counsellor of the province: any of its points
        (Role.COUNSELLOR, PROVINCE, HA_LONG, "point_elsewhere"),
        (Role.CADRE, None, None, "no_unit"),
    ],
)
def test_where_a_staff_member_may_be_placed(role: Role, unit: Unit | None, at: Unit | None, problem: str) -> None:
    assert placement_problem(role, unit, point(at) if at else None, at) == problem
    assert problem == "" or problem in PROBLEMS
