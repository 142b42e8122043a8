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
        'too_many_attempts': ('尝试次数过多，请稍后再试', 'Too many attempts; try again later'),
        'busy': ('服务器繁忙，请稍后再试', 'Server busy; try again shortly'),
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
    # CloudEvents types without the 'cn.gov.yingji.' prefix; the after-action timeline uses the same keys
    'eventType': {
        'incident.reported': ('上报事件', 'Incident reported'),
        'incident.verified': ('核实事件', 'Incident verified'),
        'incident.levelchanged': ('调整事件等级', 'Level changed'),
        'incident.situationupdated': ('更新灾情', 'Situation updated'),
        'incident.controlled': ('事件已控制', 'Incident controlled'),
        'incident.closed': ('事件结案', 'Incident closed'),
        'incident.dismissed': ('撤销事件', 'Report dismissed'),
        'incident.reportedupward': ('已报送市级', 'Reported to the city'),
        'dispatch.ordered': ('下达派遣', 'Dispatch ordered'),
        'dispatch.acknowledged': ('队伍收到指令', 'Dispatch acknowledged'),
        'dispatch.escalated': ('派遣超时告警', 'Dispatch overdue'),
        'dispatch.departed': ('队伍出发', 'Team departed'),
        'dispatch.arrived': ('队伍到达现场', 'Team on scene'),
        'dispatch.completed': ('任务完成', 'Task completed'),
        'dispatch.declined': ('队伍拒绝派遣', 'Dispatch declined'),
        'dispatch.cancelled': ('取消派遣', 'Dispatch cancelled'),
        'team.registered': ('登记救援队伍', 'Team registered'),
        'team.wentonduty': ('队伍恢复在岗', 'Team on duty'),
        'team.wentoffduty': ('队伍转为休整', 'Team off duty'),
        'team.assigned': ('队伍受领任务', 'Team assigned'),
        'team.released': ('队伍任务解除', 'Team released'),
        'unit.registered': ('登记行政单位', 'Unit registered'),
        'unit.partsupdated': ('更新单位配置', 'Unit updated'),
        'warehouse.registered': ('登记物资仓库', 'Warehouse registered'),
        'warehouse.stockreceived': ('物资入库', 'Stock received'),
        'warehouse.stockcounted': ('库存盘点', 'Stock counted'),
        'warehouse.minimumset': ('设定最低储备', 'Minimum set'),
        'warehouse.stockreserved': ('物资预留', 'Stock reserved'),
        'warehouse.stockreleased': ('释放预留', 'Reservation released'),
        'warehouse.stockissued': ('物资出库', 'Stock issued'),
        'warehouse.stockreturned': ('物资归还入库', 'Stock returned'),
        'allocation.requested': ('申请物资调拨', 'Allocation requested'),
        'allocation.shipped': ('物资发运', 'Materials shipped'),
        'allocation.delivered': ('物资签收', 'Materials received'),
        'allocation.returned': ('物资归还', 'Materials returned'),
        'allocation.cancelled': ('取消调拨', 'Allocation cancelled'),
        'directive.received': ('收到上级指令', 'Directive received'),
        'directive.acknowledged': ('签收上级指令', 'Directive acknowledged'),
        'dailyreport.filed': ('提交日报', 'Daily report filed'),
        'dailyreport.corrected': ('更正日报', 'Daily report corrected'),
    },
    # the record an event belongs to
    'eventKind': {
        'incident': ('事件', 'Incident'),
        'dispatch': ('派遣', 'Dispatch'),
        'team': ('队伍', 'Team'),
        'unit': ('单位', 'Unit'),
        'warehouse': ('仓库', 'Warehouse'),
        'allocation': ('调拨', 'Allocation'),
        'directive': ('指令', 'Directive'),
        'dailyreport': ('日报', 'Daily report'),
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
