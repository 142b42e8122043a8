"""Demo readiness (1+4 / 1+3 / 六有): the facts a realistic mix of scorecards is derived from, and a
self-inspection (自查) under way.

The people and plans registers seed their own facts (committees, offices, reporters and their training,
plans and drills); here: each street desk's account and its recent sign-in (the platform item), 东城街道's
comprehensive team down to 19 after departures (one short of the standard: the browser test grows it
back to 20), and 东城街道's special self-inspection of its 1+4 items, which found the team and a
warehouse short of life jackets: the stock was made up and that item signed off (销号); the team's is open.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

from gateway.container import Container
from gateway.context import CommandContext, Principal
from gateway.service_layer import commands as cmd

DEMO_PASSWORD = "yingji2026"
# One desk account per street office (the main seed has 新兴街道's, `xinxing`), each signed in recently.
STREET_DESKS = [("001", "xinxing", None), ("002", "dongcheng", "东城街道值班员 韩梅"), ("003", "banjiehe", "半截河街道值班员 许亮"),
                ("004", "zushi", "祖师街道值班员 曹宁"), ("005", "dingzhuang", "丁庄街道值班员 贾勇"),
                ("006", "jijuqu", "集聚区管委会值班员 邵琳")]
SHORT_TEAM_STREET = "002"  # 东城街道: its comprehensive team at 19


def seed_readiness(c: Container, now: datetime, team_ids: dict[str, str], warehouses: list[str]) -> dict[str, int]:
    district = c.settings.district_code
    prefix = district[:6]
    s = c.service
    for n, (street_no, username, display) in enumerate(STREET_DESKS):
        if display and c.accounts.get(username) is None:
            c.accounts.add(username, DEMO_PASSWORD, "operator", f"{prefix}{street_no}000", None, display)
        c.accounts.record_signin(username, now - timedelta(hours=5 + 19 * n))
    street = f"{prefix}{SHORT_TEAM_STREET}000"
    desk = CommandContext(Principal("dongcheng", "operator", street, name="东城街道值班员 韩梅"), request_id="seed")
    team = UUID(team_ids[SHORT_TEAM_STREET])
    warehouse = UUID(warehouses[int(SHORT_TEAM_STREET) - 1])
    s.handle(desk, cmd.ChangeTeamStrength(team, 19, "5名队员退役离队"))
    s.handle(desk, cmd.CountStock(warehouse, "LIFE-JACKET", 60, "汛前盘点：20件破损报废"))
    c.projector.catch_up()  # the campaign is judged from the read models
    campaign = s.handle(desk, cmd.OpenCampaign(
        kind="self", unit_code=street, title="东城街道“1+4”建设专项自查", deadline=now + timedelta(days=7),
        units=[street], items=["s1_4.team", "s1_4.warehouse", "s1_4.platform"]))
    s.handle(desk, cmd.ReceiveStock(warehouse, {"LIFE-JACKET": 100}, "补充救生衣"))
    c.projector.catch_up()
    items, _ = c.store.list("rectification", limit=100)
    for item in items:
        if item["campaign_id"] == campaign.id and item["item_id"] == "s1_4.warehouse":
            s.handle(desk, cmd.SignOffRectification(UUID(item["id"]), "已补充救生衣100件，达到最低储备"))
    return {"campaigns": 1}
