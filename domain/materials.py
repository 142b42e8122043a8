"""The materials catalogue (应急物资目录): the common reserve items, by code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Material:
    code: str
    name_zh: str
    name_en: str
    unit: str  # counting unit, Chinese (顶, 床, 件, ...)
    category: str


_CATALOGUE = (
    # 生活类 living
    Material("TENT-12", "12平方米救灾帐篷", "Relief tent 12 m²", "顶", "shelter"),
    Material("TENT-36", "36平方米指挥帐篷", "Command tent 36 m²", "顶", "shelter"),
    Material("QUILT", "棉被", "Quilt", "床", "living"),
    Material("COTTON-COAT", "棉大衣", "Padded coat", "件", "living"),
    Material("FOLD-BED", "折叠床", "Folding bed", "张", "living"),
    Material("WATER-550", "瓶装饮用水(550ml)", "Bottled water 550 ml", "箱", "living"),
    Material("INSTANT-FOOD", "方便食品", "Instant food", "箱", "living"),
    # 防汛类 flood control
    Material("LIFE-JACKET", "救生衣", "Life jacket", "件", "flood"),
    Material("LIFE-BUOY", "救生圈", "Life buoy", "个", "flood"),
    Material("SANDBAG", "编织袋(沙袋)", "Sandbag", "条", "flood"),
    Material("GEOTEXTILE", "土工布", "Geotextile", "平方米", "flood"),
    Material("BOAT-INFL", "冲锋舟", "Inflatable assault boat", "艘", "flood"),
    Material("PUMP", "排涝水泵", "Drainage pump", "台", "flood"),
    Material("ROPE", "救援绳(50米)", "Rescue rope 50 m", "根", "rescue"),
    # 救援类 rescue
    Material("GENERATOR", "发电机组", "Generator set", "台", "power"),
    Material("LIGHT-TOWER", "移动照明灯塔", "Mobile lighting tower", "台", "power"),
    Material("FLASHLIGHT", "强光手电", "Flashlight", "支", "power"),
    Material("CHAINSAW", "油锯", "Chainsaw", "台", "rescue"),
    Material("FIRE-EXT", "灭火器", "Fire extinguisher", "具", "fire"),
    Material("FIRE-BEATER", "风力灭火机", "Wind fire extinguisher", "台", "fire"),
    Material("HELMET", "安全头盔", "Safety helmet", "顶", "protection"),
    Material("RAINCOAT", "雨衣", "Raincoat", "件", "protection"),
    Material("RUBBER-BOOTS", "雨靴", "Rubber boots", "双", "protection"),
    Material("FIRST-AID", "急救包", "First-aid kit", "个", "medical"),
    Material("STRETCHER", "担架", "Stretcher", "副", "medical"),
    Material("MEGAPHONE", "扩音喇叭", "Megaphone", "个", "communication"),
    Material("SAT-PHONE", "卫星电话", "Satellite phone", "部", "communication"),
)

CATALOGUE: dict[str, Material] = {m.code: m for m in _CATALOGUE}


def is_known(code: str) -> bool:
    return code in CATALOGUE
