"""The glossary: every term the product shows, one row per code: code ↔ 中文 ↔ English.

Pages read it through the generated ui/vocab.js (`GLOSSARY`, used by ui/i18n.js's
`label(group, code)`), server-rendered reports read it here (`term`), and
docs/glossary.md is generated from it (`python -m gateway.vocab`). Codes are the
API's values; a test requires a term for every value the domain defines, so a
new status or subtype cannot ship without its words.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")  # Chinese first

GLOSSARY: dict[str, dict[str, tuple[str, str]]] = {
    'level': {
        'I': ('特别重大', 'Extremely serious'),
        'II': ('重大', 'Serious'),
        'III': ('较大', 'Major'),
        'IV': ('一般', 'General'),
    },
    'levelShort': {
        'I': ('Ⅰ级', 'Level I'),
        'II': ('Ⅱ级', 'Level II'),
        'III': ('Ⅲ级', 'Level III'),
        'IV': ('Ⅳ级', 'Level IV'),
    },
    'category': {
        'natural_disaster': ('自然灾害', 'Natural disaster'),
        'accident': ('事故灾难', 'Accident'),
        'public_health': ('公共卫生事件', 'Public health'),
        'social_security': ('社会安全事件', 'Social security'),
    },
    'subtype': {
        'flood': ('洪涝', 'Flood'),
        'rainstorm': ('暴雨', 'Rainstorm'),
        'geological': ('地质灾害', 'Geological hazard'),
        'earthquake': ('地震', 'Earthquake'),
        'drought': ('干旱', 'Drought'),
        'strong_wind': ('大风', 'Strong wind'),
        'snow_ice': ('雨雪冰冻', 'Snow and ice'),
        'forest_fire': ('森林火灾', 'Forest fire'),
        'other_natural': ('其他自然灾害', 'Other natural'),
        'fire': ('火灾', 'Fire'),
        'hazmat': ('危化品', 'Hazardous chemicals'),
        'traffic': ('交通事故', 'Traffic accident'),
        'building_collapse': ('建筑坍塌', 'Building collapse'),
        'production_safety': ('生产安全事故', 'Work-safety accident'),
        'gas_leak': ('燃气泄漏', 'Gas leak'),
        'other_accident': ('其他事故', 'Other accident'),
        'epidemic': ('传染病疫情', 'Epidemic'),
        'food_poisoning': ('食物中毒', 'Food poisoning'),
        'other_health': ('其他公共卫生事件', 'Other public health'),
        'mass_incident': ('群体性事件', 'Mass incident'),
        'crowd_stampede': ('拥挤踩踏', 'Crowd stampede'),
        'other_security': ('其他社会安全事件', 'Other security'),
    },
    'incidentStatus': {
        'reported': ('待核实', 'Reported'),
        'verified': ('已核实', 'Verified'),
        'controlled': ('已控制', 'Controlled'),
        'closed': ('已结案', 'Closed'),
        'dismissed': ('已撤销', 'Dismissed'),
    },
    'teamStatus': {
        'idle': ('待命', 'Standby'),
        'ordered': ('已下达', 'Ordered'),
        'acknowledged': ('已收到', 'Acknowledged'),
        'departed': ('已出发', 'En route'),
        'arrived': ('已到达', 'On scene'),
        'off_duty': ('休整', 'Off duty'),
    },
    'dispatchStatus': {
        'ordered': ('已下达', 'Ordered'),
        'acknowledged': ('已收到', 'Acknowledged'),
        'departed': ('已出发', 'En route'),
        'arrived': ('已到达', 'On scene'),
        'completed': ('已完成', 'Completed'),
        'declined': ('已拒绝', 'Declined'),
        'cancelled': ('已取消', 'Cancelled'),
    },
    'allocationStatus': {
        'reserved': ('已预留', 'Reserved'),
        'shipped': ('运输中', 'Shipped'),
        'delivered': ('已送达', 'Delivered'),
        'returned': ('已归还', 'Returned'),
        'cancelled': ('已取消', 'Cancelled'),
    },
    'teamKind': {
        'comprehensive': ('综合性应急救援队伍', 'Comprehensive rescue'),
        'militia': ('民兵应急救援队伍', 'Militia rescue'),
        'fire': ('消防', 'Fire'),
        'flood': ('防汛抢险', 'Flood control'),
        'medical': ('医疗救护', 'Medical'),
        'hazmat': ('危化品处置', 'Hazmat'),
        'engineering': ('工程抢险', 'Engineering'),
        'volunteer': ('志愿者', 'Volunteers'),
        'persuader': ('安全劝导员', 'Safety persuaders'),
    },
    'teamKindShort': {
        'comprehensive': ('综合', 'Comp.'),
        'militia': ('民兵', 'Militia'),
        'fire': ('消防', 'Fire'),
        'flood': ('防汛', 'Flood'),
        'medical': ('医疗', 'Medical'),
        'hazmat': ('危化', 'Hazmat'),
        'engineering': ('工程', 'Eng.'),
        'volunteer': ('志愿', 'Volunt.'),
        'persuader': ('劝导', 'Persuad.'),
    },
    'unitKind': {
        'district': ('区', 'District'),
        'street': ('街道', 'Street'),
        'cluster': ('产业集聚区', 'Industrial cluster'),
        'village': ('行政村', 'Village'),
        'community': ('社区', 'Community'),
    },
    'role': {
        'admin': ('系统管理员', 'Administrator'),
        'commander': ('指挥长', 'Commander'),
        'operator': ('值班员', 'Duty operator'),
        'field': ('救援队伍', 'Field team'),
        'reporter': ('灾害信息员', 'Reporter'),
        'observer': ('观察员', 'Observer'),
    },
    'situation': {
        'deaths': ('死亡', 'Dead'),
        'injured': ('受伤', 'Injured'),
        'missing': ('失踪', 'Missing'),
        'evacuated': ('转移', 'Evacuated'),
        'affected': ('受灾', 'Affected'),
    },
    'errorCode': {
        'validation_error': ('输入有误', 'Invalid input'),
        'unknown_material': ('未知物资', 'Unknown material'),
        'not_found': ('未找到', 'Not found'),
        'forbidden': ('无权执行此操作', 'Not allowed'),
        'unauthenticated': ('未登录或登录已失效', 'Not signed in'),
        'invalid_transition': ('当前状态下不能执行此操作', 'Not possible in the current state'),
        'team_unavailable': ('该队伍当前不能接受派遣', 'The team cannot take this dispatch'),
        'insufficient_stock': ('库存不足', 'Not enough stock'),
        'version_conflict': ('数据已被他人修改，请重试', 'Changed by someone else; try again'),
        'idempotency_mismatch': ('同一幂等键的请求内容不一致', 'Idempotency key reused with a different request'),
        'conflict': ('操作冲突', 'Conflict'),
        'projection_lag': ('数据同步中，请稍后重试', 'Data is catching up; try again shortly'),
        'payload_too_large': ('请求内容过大', 'Request too large'),
        'method_not_allowed': ('不支持的操作', 'Method not allowed'),
        'unsupported_media_type': ('不支持的内容类型', 'Unsupported media type'),
        'internal_error': ('服务器内部错误，命令未执行', 'Server error; the command was not applied'),
        'network': ('网络错误，无法连接服务器', 'Network error: the server cannot be reached'),
    },
    'weekday': {
        '0': ('日', 'Sunday'),
        '1': ('一', 'Monday'),
        '2': ('二', 'Tuesday'),
        '3': ('三', 'Wednesday'),
        '4': ('四', 'Thursday'),
        '5': ('五', 'Friday'),
        '6': ('六', 'Saturday'),
    },
    'event': {
        'Reported': ('上报', 'Reported'),
        'Verified': ('核实', 'Verified'),
        'LevelChanged': ('调整级别', 'Level changed'),
        'SituationUpdated': ('更新灾情', 'Situation updated'),
        'Controlled': ('控制', 'Controlled'),
        'Closed': ('结案', 'Closed'),
        'Dismissed': ('撤销', 'Dismissed'),
        'ReportedUpward': ('已报市级', 'Reported to the city'),
        'Ordered': ('已下达', 'Ordered'),
        'Acknowledged': ('已收到', 'Acknowledged'),
        'Departed': ('已出发', 'En route'),
        'Arrived': ('已到达', 'On scene'),
        'Completed': ('已完成', 'Completed'),
        'Declined': ('已拒绝', 'Declined'),
        'Cancelled': ('已取消', 'Cancelled'),
        'Escalated': ('超时告警', 'Overdue alarm'),
        'Requested': ('申请调拨', 'Allocation requested'),
        'Shipped': ('出库', 'Shipped'),
        'Delivered': ('签收', 'Delivered'),
        'Returned': ('归还', 'Returned'),
    },
    'record': {
        'incident': ('事件', 'Incident'),
        'dispatch': ('调度', 'Dispatch'),
        'allocation': ('物资', 'Materials'),
    },
}


def term(group: str, code: str, lang: str = "zh") -> str:
    """The term for `code` in `group`, or the code itself when the glossary has none."""
    row = GLOSSARY.get(group, {}).get(code)
    return row[LANGUAGES.index(lang)] if row else code


def by_language() -> dict[str, dict[str, dict[str, str]]]:
    """{group: {"zh": {code: term}, "en": {...}}}: the shape the pages look terms up in."""
    return {group: {lang: {code: row[i] for code, row in rows.items()} for i, lang in enumerate(LANGUAGES)}
            for group, rows in GLOSSARY.items()}
