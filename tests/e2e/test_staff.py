"""Transcripts: cadres, officers, counsellors and admins link with their codes and see their role's menu."""

from __future__ import annotations

from tests.support.chats import Chats as Simulator
from tests.support.factories import Commune


async def test_cadre_links_and_sees_only_their_scope(sim: Simulator, commune: Commune) -> None:
    cadre = sim.chat("can-bo")
    said = await cadre.say(f"/start {commune.cadre_code}")
    said.says("Xin chào Trần Thị Bình", "vai trò: cán bộ đồng hành").offers("Vai trò và phạm vi", "Ngôn ngữ")
    said.never_says("1/3")  # staff are not asked participant consent
    said = await cadre.press("Vai trò và phạm vi")
    said.says(
        "Vai trò: cán bộ đồng hành",
        "Đơn vị: Phường Hà Đông",
        "chỉ xem được những người được phân công cho anh/chị",
        "Số người trong phạm vi của anh/chị: 1",
    )


async def test_officer_sees_the_whole_commune(sim: Simulator, commune: Commune) -> None:
    officer = sim.chat("cong-an")
    (await officer.say(commune.officer_code)).says("Xin chào Lê Văn Cường", "cán bộ phụ trách")
    (await officer.press("Vai trò và phạm vi")).says(
        "quản lý danh sách của Phường Hà Đông", "Số người trong phạm vi của anh/chị: 2"
    )


async def test_counsellor_and_admin_see_their_role(sim: Simulator, commune: Commune) -> None:
    counsellor = sim.chat("tu-van")
    (await counsellor.say(commune.counsellor_code)).says("tư vấn viên")
    (await counsellor.press("Vai trò và phạm vi")).says("Điểm tư vấn: Điểm tư vấn Hà Đông")
    admin = sim.chat("quan-tri")
    (await admin.say(commune.admin_code)).says("quản trị viên")
    (await admin.press("Vai trò và phạm vi")).says("Đơn vị: Thành phố Hà Nội")


async def test_staff_can_switch_language(sim: Simulator, commune: Commune) -> None:
    cadre = sim.chat("can-bo")
    await cadre.say(commune.cadre_code)
    await cadre.press("Ngôn ngữ")
    (await cadre.press("English")).says("in English from now on", "Staff menu").offers("My role and scope")
