// All user-visible labels of the board, Chinese first (zh-CN) with English beside.
// API field names and values stay English; this module turns them into words.

const STORE_KEY = "yingji.lang";

const DICT = {
  zh: {
    "app.title": "应急指挥调度平台",
    "app.subtitle": "指挥大屏",
    "app.district": "应急管理局",
    "lang.toggle": "EN",
    "lang.toggleTitle": "Switch to English",

    "conn.online": "在线",
    "conn.reconnecting": "重连中",
    "conn.offline": "离线",
    "conn.connecting": "连接中",
    "conn.position": "位置",
    "conn.retryIn": "{s}秒后重试",
    "conn.stale": "实时连接中断，看板数据截至 {time}，正在自动重连……",

    "user.signOut": "退出",
    "login.title": "值班人员登录",
    "login.username": "用户名",
    "login.password": "密码",
    "login.submit": "登录",
    "login.busy": "正在登录……",
    "login.failed": "登录失败",
    "login.expired": "登录已失效，请重新登录",
    "login.wrong": "用户名或密码错误",

    "kpi.incidents": "在办事件",
    "kpi.awaitingAck": "待确认派遣",
    "kpi.overdue": "超时 {n}",
    "kpi.teamsIdle": "待命队伍",
    "kpi.teamsBusy": "出动 {n}",
    "kpi.allocations": "物资在途",
    "kpi.stockLow": "库存告警",
    "kpi.alerts": "告警",
    "kpi.people": "转移 / 受灾",

    "panel.incidents": "在办事件",
    "panel.map": "辖区态势图",
    "panel.dispatches": "派遣动态",
    "panel.awaitingAck": "待确认",
    "panel.inProgress": "执行中",
    "panel.teams": "救援队伍",
    "panel.allocations": "物资调拨",
    "panel.warehouses": "物资储备",
    "panel.alerts": "告警",
    "panel.streets": "街道统计",

    "empty.incidents": "当前无在办事件",
    "empty.dispatches": "无进行中的派遣",
    "empty.awaiting": "无待确认派遣",
    "empty.allocations": "无在途调拨",
    "empty.alerts": "无告警",
    "empty.teams": "无队伍",
    "empty.warehouses": "无仓库",

    "incident.age": "已持续",
    "incident.occurred": "发生",
    "incident.reported": "上报",
    "incident.teams": "队伍 {n}",
    "incident.noFigures": "暂无伤亡",
    "incident.unassigned": "未派遣",

    "action.report": "上报事件",
    "action.dispatch": "派遣队伍",
    "action.allocate": "调拨物资",
    "action.verify": "核实",
    "action.control": "控制",
    "action.close": "结案",
    "action.dispatchShort": "派遣",
    "action.allocateShort": "调拨",
    "action.cancel": "取消",
    "action.submit": "提交",
    "action.sending": "提交中……",
    "action.retry": "重试",
    "action.addLine": "添加物资",
    "action.removeLine": "删除",
    "action.done": "已提交",

    "dispatch.deadline": "确认时限",
    "dispatch.remaining": "剩余",
    "dispatch.overdue": "已超时",
    "dispatch.task": "任务",
    "dispatch.since": "下达于",

    "alloc.from": "自",
    "alloc.to": "至",

    "stock.available": "可用",
    "stock.minimum": "最低",
    "stock.below": "{n} 项低于最低储备",
    "stock.ok": "储备充足",
    "stock.more": "展开全部 {n} 项",
    "stock.less": "收起",

    "alert.ack_overdue": "派遣超时未确认",
    "alert.ack_overdue.text": "{team} 未在时限内确认「{incident}」",
    "alert.arrival_overdue": "队伍超时未到达",
    "alert.arrival_overdue.text": "{team} 未在时限内到达「{incident}」现场",
    "alert.report_overdue": "灾情超时未报送",
    "alert.report_overdue.text": "「{incident}」发生已超过2小时，尚未报送市级平台",
    "alert.directive": "上级指令待签收",
    "alert.relay_alarm": "市级平台贯通告警",
    "alert.relay_alarm.text": "向市级平台报送中断：{detail}",
    "alert.escalated": "已升级",
    "relay.label": "市级贯通",
    "relay.ok": "正常",
    "relay.lagging": "滞后 {n} 条",
    "relay.alarm": "告警",
    "relay.paused": "暂停",
    "relay.title": "向许昌市级应急指挥平台报送：已送达位置 {position} / 最新 {head}",
    "upward.done": "已报市级",
    "upward.due": "报送剩余",
    "upward.overdue": "超时未报",
    "dispatch.arriveDeadline": "到达时限",
    "action.ackDirective": "签收",
    "form.directive.title": "签收上级指令",
    "form.directive.issuer": "发令单位",
    "toast.directiveAck": "指令已签收",
    "alert.stock_low": "库存低于最低储备",
    "alert.stock_low.text": "{warehouse}：{material} 可用 {available}，最低 {minimum}",

    "streets.street": "街道",
    "streets.incidents": "事件",
    "streets.dispatches": "派遣",
    "streets.busy": "出动",
    "streets.idle": "待命",
    "streets.total": "合计",
    "team.members": "{n}人",

    "map.legend.incident": "事件",
    "map.legend.team": "队伍",
    "map.legend.warehouse": "仓库",
    "map.legend.street": "街道",
    "map.legend.village": "村/社区",
    "map.legend.route": "派遣路线",

    "form.report.title": "上报突发事件",
    "form.dispatch.title": "派遣救援队伍",
    "form.allocate.title": "调拨应急物资",
    "form.verify.title": "核实事件",
    "form.control.title": "事件已得到控制",
    "form.close.title": "事件结案",
    "form.category": "事件类别",
    "form.subtype": "事件类型",
    "form.level": "事件等级",
    "form.title": "事件标题",
    "form.unit": "所在单位",
    "form.address": "地址",
    "form.occurredAt": "发生时间（北京时间）",
    "form.description": "事件描述",
    "form.source": "信息来源",
    "form.incident": "事件",
    "form.team": "队伍（待命）",
    "form.task": "任务",
    "form.ackMinutes": "确认时限（分钟，可空）",
    "form.warehouse": "仓库",
    "form.materials": "物资及数量",
    "form.material": "物资",
    "form.quantity": "数量",
    "form.destination": "送达地点",
    "form.receivingTeam": "接收队伍（可空）",
    "form.note": "备注",
    "form.summary": "结案总结",
    "form.choose": "请选择",
    "form.none": "无",
    "form.noIdleTeams": "当前没有待命队伍",
    "form.availableN": "可用 {n}",
    "form.idempotent": "每次提交附带幂等键，网络重试不会重复执行。",
    "form.networkRetry": "网络异常，命令可能未送达。可点击“重试”，使用同一幂等键，不会重复执行。",
    "form.replayed": "服务器已处理过此请求（幂等重放）。",

    "toast.reported": "事件已上报",
    "toast.dispatched": "派遣指令已下达",
    "toast.allocated": "物资调拨已登记",
    "toast.verified": "事件已核实",
    "toast.controlled": "事件已标记为控制",
    "toast.closed": "事件已结案",

    "time.weekday": "星期{d}",
    "time.justNow": "刚刚",
    "time.ago": "{x}前",

    "err.title": "操作失败",
    "err.network": "网络错误，无法连接服务器",

    // The field team's phone page (field.html)
    "field.subtitle": "救援队伍终端",
    "field.login.title": "救援队伍登录",
    "field.login.notField": "请使用救援队伍账号登录（本页面供队长手机使用）",
    "field.newDispatch": "新的调度指令",
    "field.gotIt": "知道了",
    "field.current": "当前任务",
    "field.materials": "物资签收",
    "field.history": "历史任务",
    "field.duty.onIdle": "在岗 · 待命",
    "field.duty.onBusy": "在岗 · 执行任务",
    "field.duty.off": "休整",
    "field.sync.pending": "待同步",
    "field.stale": "离线 · 数据截至 {time} · 操作联网后自动发送",
    "field.staleNever": "离线 · 操作联网后自动发送",
    "field.action.acknowledge": "收到",
    "field.action.depart": "出发",
    "field.action.arrive": "到达",
    "field.action.complete": "完成",
    "field.action.decline": "拒绝",
    "field.action.deliver": "签收",
    "field.action.on_duty": "恢复在岗",
    "field.action.off_duty": "转为休整",
    "field.actionHint.acknowledge": "确认已收到调度指令",
    "field.actionHint.depart": "队伍动身前往现场",
    "field.actionHint.arrive": "队伍已抵达现场",
    "field.actionHint.complete": "现场任务处置完毕",
    "field.step.ordered": "下达",
    "field.step.acknowledged": "收到",
    "field.step.departed": "出发",
    "field.step.arrived": "到达",
    "field.step.completed": "完成",
    "field.orderedBy": "{who} 于 {time} 下达",
    "field.ackDeadline": "确认时限",
    "field.arriveDeadline": "到达时限",
    "field.by": "截止 {time}",
    "field.remaining": "剩余 {t}",
    "field.overdueBy": "已超时 {t}",
    "field.since.acknowledged": "收到后已过",
    "field.since.departed": "出发后已过",
    "field.since.arrived": "到场已",
    "field.onTheWay": "在途物资",
    "field.deliver": "确认签收",
    "field.awaitShip": "仓库备货中，发运后可签收",
    "field.deliveredPending": "签收已记录，联网后自动上报",
    "field.shippedAt": "{time} 发运",
    "field.requestedAt": "{time} 调拨",
    "field.receivedAt": "{time} 签收 · {who}",
    "field.history.span": "{from} 下达 → {to} {status}",
    "field.history.took": "历时 {d}",
    "field.history.reason": "原因：{reason}",
    "field.empty.current": "暂无任务",
    "field.empty.currentHint": "保持在岗待命，新的调度指令会在这里响铃提示",
    "field.empty.offDuty": "队伍休整中",
    "field.empty.offDutyHint": "恢复在岗后才能接受调度",
    "field.empty.materials": "暂无在途物资",
    "field.empty.history": "暂无历史任务",
    "field.outbox.count": "待发送 {n} 条",
    "field.outbox.retryNow": "立即发送",
    "field.outbox.sending": "正在发送……",
    "field.outbox.offline": "离线，联网后按顺序自动发送",
    "field.outbox.network": "网络不通，{s} 秒后重试",
    "field.outbox.server": "服务器暂时不可用，{s} 秒后重试",
    "field.outbox.auth": "登录已失效，重新登录后自动发送",
    "field.outbox.itemWaiting": "等待发送",
    "field.outbox.itemSending": "发送中",
    "field.outbox.itemFailed": "已尝试 {n} 次：{why}",
    "field.notice.failed": "「{action}」未执行",
    "field.toast.synced": "「{action}」已同步到指挥中心",
    "field.toast.already": "「{action}」此前已生效",
    "field.sheet.decline": "拒绝本次调度",
    "field.sheet.reason": "拒绝原因",
    "field.sheet.reasonHint": "请填写原因，指挥中心将据此改派",
    "field.sheet.reasonRequired": "请填写拒绝原因",
    "field.sheet.declineSubmit": "确认拒绝",
    "field.reason.1": "队伍正在执行其他任务",
    "field.reason.2": "人员或装备不足",
    "field.reason.3": "道路受阻，无法到达",
    "field.reason.4": "任务超出队伍处置能力",
    "field.sheet.complete": "确认任务完成",
    "field.sheet.note": "完成情况（可选）",
    "field.sheet.noteHint": "如：转移群众 12 人，现场已设警戒",
    "field.sheet.completeSubmit": "确认完成",
    "field.sheet.deliver": "确认物资签收",
    "field.sheet.receivedBy": "签收人",
    "field.sheet.offDuty": "转为休整",
    "field.sheet.onDuty": "恢复在岗",
    "field.sheet.offDutyText": "休整期间指挥中心不能向本队下达调度。确认转为休整？",
    "field.sheet.onDutyText": "恢复在岗后即可接受调度。确认恢复在岗？",
    "field.sheet.confirm": "确认",
    "field.signOutPending": "还有 {n} 条操作未发送。退出后它们会保留在本机，重新登录同一账号后继续发送。确定退出？",
    "field.signedInAs": "{name}（{user}）",
    "field.syncedAt": "数据更新于 {time}",
  },
  en: {
    "app.title": "Emergency Command & Dispatch",
    "app.subtitle": "Command board",
    "app.district": " Emergency Management Bureau",
    "lang.toggle": "中文",
    "lang.toggleTitle": "切换到中文",

    "conn.online": "Online",
    "conn.reconnecting": "Reconnecting",
    "conn.offline": "Offline",
    "conn.connecting": "Connecting",
    "conn.position": "pos",
    "conn.retryIn": "retry in {s}s",
    "conn.stale": "Live connection lost; the board shows data as of {time}. Reconnecting…",

    "user.signOut": "Sign out",
    "login.title": "Duty officer sign-in",
    "login.username": "Username",
    "login.password": "Password",
    "login.submit": "Sign in",
    "login.busy": "Signing in…",
    "login.failed": "Sign-in failed",
    "login.expired": "Your session has expired; please sign in again",
    "login.wrong": "Wrong username or password",

    "kpi.incidents": "Open incidents",
    "kpi.awaitingAck": "Awaiting ack",
    "kpi.overdue": "{n} overdue",
    "kpi.teamsIdle": "Teams on standby",
    "kpi.teamsBusy": "{n} deployed",
    "kpi.allocations": "Materials in transit",
    "kpi.stockLow": "Low stock",
    "kpi.alerts": "Alerts",
    "kpi.people": "Evacuated / affected",

    "panel.incidents": "Open incidents",
    "panel.map": "District situation map",
    "panel.dispatches": "Dispatches",
    "panel.awaitingAck": "Awaiting acknowledgement",
    "panel.inProgress": "In progress",
    "panel.teams": "Rescue teams",
    "panel.allocations": "Material allocations",
    "panel.warehouses": "Warehouse stock",
    "panel.alerts": "Alerts",
    "panel.streets": "By street",

    "empty.incidents": "No open incidents",
    "empty.dispatches": "No active dispatches",
    "empty.awaiting": "Nothing awaiting acknowledgement",
    "empty.allocations": "No allocations in flight",
    "empty.alerts": "No alerts",
    "empty.teams": "No teams",
    "empty.warehouses": "No warehouses",

    "incident.age": "Age",
    "incident.occurred": "Occurred",
    "incident.reported": "Reported",
    "incident.teams": "Teams {n}",
    "incident.noFigures": "No casualties",
    "incident.unassigned": "No team",

    "action.report": "Report",
    "action.dispatch": "Dispatch",
    "action.allocate": "Allocate",
    "action.verify": "Verify",
    "action.control": "Controlled",
    "action.close": "Close",
    "action.dispatchShort": "Dispatch",
    "action.allocateShort": "Allocate",
    "action.cancel": "Cancel",
    "action.submit": "Submit",
    "action.sending": "Sending…",
    "action.retry": "Retry",
    "action.addLine": "Add material",
    "action.removeLine": "Remove",
    "action.done": "Sent",

    "dispatch.deadline": "Ack deadline",
    "dispatch.remaining": "left",
    "dispatch.overdue": "Overdue",
    "dispatch.task": "Task",
    "dispatch.since": "Ordered",

    "alloc.from": "from",
    "alloc.to": "to",

    "stock.available": "available",
    "stock.minimum": "min",
    "stock.below": "{n} below minimum",
    "stock.ok": "Stock OK",
    "stock.more": "Show all {n}",
    "stock.less": "Show less",

    "alert.ack_overdue": "Dispatch not acknowledged",
    "alert.ack_overdue.text": "{team} has not acknowledged “{incident}” in time",
    "alert.arrival_overdue": "Team late on scene",
    "alert.arrival_overdue.text": "{team} has not reached “{incident}” in time",
    "alert.report_overdue": "Report to the city overdue",
    "alert.report_overdue.text": "“{incident}” occurred over 2 hours ago and has not reached the city platform",
    "alert.directive": "Directive from the city",
    "alert.relay_alarm": "City platform link alarm",
    "alert.relay_alarm.text": "Relay to the city platform stopped: {detail}",
    "alert.escalated": "escalated",
    "relay.label": "City link",
    "relay.ok": "OK",
    "relay.lagging": "{n} behind",
    "relay.alarm": "Alarm",
    "relay.paused": "Paused",
    "relay.title": "Relay to the Xuchang city command platform: delivered up to {position} of {head}",
    "upward.done": "Reported to city",
    "upward.due": "Report due in",
    "upward.overdue": "Report overdue",
    "dispatch.arriveDeadline": "Arrive by",
    "action.ackDirective": "Acknowledge",
    "form.directive.title": "Acknowledge directive",
    "form.directive.issuer": "Issued by",
    "toast.directiveAck": "Directive acknowledged",
    "alert.stock_low": "Stock below minimum",
    "alert.stock_low.text": "{warehouse}: {material} available {available}, minimum {minimum}",

    "streets.street": "Street",
    "streets.incidents": "Incid.",
    "streets.dispatches": "Disp.",
    "streets.busy": "Busy",
    "streets.idle": "Idle",
    "streets.total": "Total",
    "team.members": "{n} ppl",

    "map.legend.incident": "Incident",
    "map.legend.team": "Team",
    "map.legend.warehouse": "Warehouse",
    "map.legend.street": "Street",
    "map.legend.village": "Village",
    "map.legend.route": "Dispatch route",

    "form.report.title": "Report an incident",
    "form.dispatch.title": "Dispatch a team",
    "form.allocate.title": "Allocate materials",
    "form.verify.title": "Verify incident",
    "form.control.title": "Mark incident as controlled",
    "form.close.title": "Close incident",
    "form.category": "Category",
    "form.subtype": "Type",
    "form.level": "Level",
    "form.title": "Title",
    "form.unit": "Unit",
    "form.address": "Address",
    "form.occurredAt": "Occurred at (Beijing time)",
    "form.description": "Description",
    "form.source": "Source",
    "form.incident": "Incident",
    "form.team": "Team (on standby)",
    "form.task": "Task",
    "form.ackMinutes": "Ack within (minutes, optional)",
    "form.warehouse": "Warehouse",
    "form.materials": "Materials and quantities",
    "form.material": "Material",
    "form.quantity": "Qty",
    "form.destination": "Destination",
    "form.receivingTeam": "Receiving team (optional)",
    "form.note": "Note",
    "form.summary": "Closing summary",
    "form.choose": "Choose…",
    "form.none": "None",
    "form.noIdleTeams": "No team is on standby",
    "form.availableN": "{n} available",
    "form.idempotent": "Each submission carries an idempotency key: a network retry never applies twice.",
    "form.networkRetry": "Network problem: the command may not have arrived. Retry safely — the same idempotency key is used.",
    "form.replayed": "The server had already applied this request (idempotent replay).",

    "toast.reported": "Incident reported",
    "toast.dispatched": "Dispatch ordered",
    "toast.allocated": "Allocation requested",
    "toast.verified": "Incident verified",
    "toast.controlled": "Incident marked as controlled",
    "toast.closed": "Incident closed",

    "time.weekday": "{d}",
    "time.justNow": "just now",
    "time.ago": "{x} ago",

    "err.title": "Command failed",
    "err.network": "Network error: the server cannot be reached",

    // The field team's phone page (field.html)
    "field.subtitle": "Field team",
    "field.login.title": "Field team sign-in",
    "field.login.notField": "Please sign in with a field team account (this page is for team leaders' phones)",
    "field.newDispatch": "New dispatch order",
    "field.gotIt": "Got it",
    "field.current": "Current task",
    "field.materials": "Incoming materials",
    "field.history": "Past tasks",
    "field.duty.onIdle": "On duty · standby",
    "field.duty.onBusy": "On duty · on a task",
    "field.duty.off": "Off duty",
    "field.sync.pending": "Not synced",
    "field.stale": "Offline · data as of {time} · taps are sent when back online",
    "field.staleNever": "Offline · taps are sent when back online",
    "field.action.acknowledge": "Acknowledge",
    "field.action.depart": "Depart",
    "field.action.arrive": "Arrived",
    "field.action.complete": "Complete",
    "field.action.decline": "Decline",
    "field.action.deliver": "Receipt",
    "field.action.on_duty": "Go on duty",
    "field.action.off_duty": "Go off duty",
    "field.actionHint.acknowledge": "Confirm you received the order",
    "field.actionHint.depart": "The team sets off for the scene",
    "field.actionHint.arrive": "We are on scene",
    "field.actionHint.complete": "The task is done",
    "field.step.ordered": "Ordered",
    "field.step.acknowledged": "Ack'd",
    "field.step.departed": "Left",
    "field.step.arrived": "Arrived",
    "field.step.completed": "Done",
    "field.orderedBy": "Ordered by {who} at {time}",
    "field.ackDeadline": "Acknowledge within",
    "field.arriveDeadline": "Arrive within",
    "field.by": "by {time}",
    "field.remaining": "{t} left",
    "field.overdueBy": "Overdue {t}",
    "field.since.acknowledged": "Since acknowledged",
    "field.since.departed": "En route for",
    "field.since.arrived": "On scene for",
    "field.onTheWay": "Materials on the way",
    "field.deliver": "Confirm receipt",
    "field.awaitShip": "Being prepared at the warehouse; sign once shipped",
    "field.deliveredPending": "Receipt recorded; sent when back online",
    "field.shippedAt": "shipped {time}",
    "field.requestedAt": "allocated {time}",
    "field.receivedAt": "received {time} · {who}",
    "field.history.span": "ordered {from} → {status} {to}",
    "field.history.took": "took {d}",
    "field.history.reason": "Reason: {reason}",
    "field.empty.current": "No task",
    "field.empty.currentHint": "Stay on standby: a new dispatch rings here",
    "field.empty.offDuty": "Team off duty",
    "field.empty.offDutyHint": "Go on duty to receive dispatches",
    "field.empty.materials": "Nothing on the way",
    "field.empty.history": "No past tasks",
    "field.outbox.count": "{n} waiting to send",
    "field.outbox.retryNow": "Send now",
    "field.outbox.sending": "Sending…",
    "field.outbox.offline": "Offline: sent in order once back online",
    "field.outbox.network": "No network; retrying in {s} s",
    "field.outbox.server": "Server unavailable; retrying in {s} s",
    "field.outbox.auth": "Signed out: sent after you sign in again",
    "field.outbox.itemWaiting": "waiting",
    "field.outbox.itemSending": "sending",
    "field.outbox.itemFailed": "{n} tries: {why}",
    "field.notice.failed": "“{action}” was not applied",
    "field.toast.synced": "“{action}” reached the command center",
    "field.toast.already": "“{action}” had already been applied",
    "field.sheet.decline": "Decline this dispatch",
    "field.sheet.reason": "Reason",
    "field.sheet.reasonHint": "Tell the command center why, so it can send another team",
    "field.sheet.reasonRequired": "A reason is required",
    "field.sheet.declineSubmit": "Decline",
    "field.reason.1": "Busy with another task",
    "field.reason.2": "Not enough people or equipment",
    "field.reason.3": "Road blocked, cannot get there",
    "field.reason.4": "Beyond the team's capability",
    "field.sheet.complete": "Complete the task",
    "field.sheet.note": "Outcome (optional)",
    "field.sheet.noteHint": "e.g. 12 people evacuated, cordon in place",
    "field.sheet.completeSubmit": "Complete",
    "field.sheet.deliver": "Confirm receipt of materials",
    "field.sheet.receivedBy": "Received by",
    "field.sheet.offDuty": "Go off duty",
    "field.sheet.onDuty": "Go on duty",
    "field.sheet.offDutyText": "While off duty the command center cannot dispatch the team. Go off duty?",
    "field.sheet.onDutyText": "On duty, the team can receive dispatches again. Go on duty?",
    "field.sheet.confirm": "Confirm",
    "field.signOutPending": "{n} taps have not been sent yet. They stay on this phone and are sent after the same account signs in again. Sign out?",
    "field.signedInAs": "{name} ({user})",
    "field.syncedAt": "Data as of {time}",
  },
};

// Enumerations from the API, by group.
const LABELS = {
  level: {
    zh: { I: "特别重大", II: "重大", III: "较大", IV: "一般" },
    en: { I: "Extremely serious", II: "Serious", III: "Major", IV: "General" },
  },
  levelShort: {
    zh: { I: "Ⅰ级", II: "Ⅱ级", III: "Ⅲ级", IV: "Ⅳ级" },
    en: { I: "Level I", II: "Level II", III: "Level III", IV: "Level IV" },
  },
  category: {
    zh: { natural_disaster: "自然灾害", accident: "事故灾难", public_health: "公共卫生事件", social_security: "社会安全事件" },
    en: { natural_disaster: "Natural disaster", accident: "Accident", public_health: "Public health", social_security: "Social security" },
  },
  subtype: {
    zh: {
      flood: "洪涝", rainstorm: "暴雨", geological: "地质灾害", earthquake: "地震", drought: "干旱", strong_wind: "大风",
      snow_ice: "雨雪冰冻", forest_fire: "森林火灾", other_natural: "其他自然灾害",
      fire: "火灾", hazmat: "危化品", traffic: "交通事故", building_collapse: "建筑坍塌", production_safety: "生产安全事故",
      gas_leak: "燃气泄漏", other_accident: "其他事故",
      epidemic: "传染病疫情", food_poisoning: "食物中毒", other_health: "其他公共卫生事件",
      mass_incident: "群体性事件", crowd_stampede: "拥挤踩踏", other_security: "其他社会安全事件",
    },
    en: {
      flood: "Flood", rainstorm: "Rainstorm", geological: "Geological hazard", earthquake: "Earthquake", drought: "Drought",
      strong_wind: "Strong wind", snow_ice: "Snow and ice", forest_fire: "Forest fire", other_natural: "Other natural",
      fire: "Fire", hazmat: "Hazardous chemicals", traffic: "Traffic accident", building_collapse: "Building collapse",
      production_safety: "Work-safety accident", gas_leak: "Gas leak", other_accident: "Other accident",
      epidemic: "Epidemic", food_poisoning: "Food poisoning", other_health: "Other public health",
      mass_incident: "Mass incident", crowd_stampede: "Crowd stampede", other_security: "Other security",
    },
  },
  incidentStatus: {
    zh: { reported: "待核实", verified: "已核实", controlled: "已控制", closed: "已结案", dismissed: "已撤销" },
    en: { reported: "Reported", verified: "Verified", controlled: "Controlled", closed: "Closed", dismissed: "Dismissed" },
  },
  teamStatus: {
    zh: { idle: "待命", ordered: "已下达", acknowledged: "已收到", departed: "已出发", arrived: "已到达", off_duty: "休整" },
    en: { idle: "Standby", ordered: "Ordered", acknowledged: "Acknowledged", departed: "En route", arrived: "On scene", off_duty: "Off duty" },
  },
  dispatchStatus: {
    zh: { ordered: "待确认", acknowledged: "已收到", departed: "已出发", arrived: "已到达", completed: "已完成", declined: "已拒绝", cancelled: "已取消" },
    en: { ordered: "Awaiting ack", acknowledged: "Acknowledged", departed: "En route", arrived: "On scene", completed: "Completed", declined: "Declined", cancelled: "Cancelled" },
  },
  allocationStatus: {
    zh: { reserved: "已预留", shipped: "运输中", delivered: "已送达", returned: "已归还", cancelled: "已取消" },
    en: { reserved: "Reserved", shipped: "Shipped", delivered: "Delivered", returned: "Returned", cancelled: "Cancelled" },
  },
  teamKind: {
    zh: {
      comprehensive: "综合性应急救援队伍", militia: "民兵应急救援队伍", fire: "消防", flood: "防汛抢险", medical: "医疗救护",
      hazmat: "危化品处置", engineering: "工程抢险", volunteer: "志愿者", persuader: "安全劝导员",
    },
    en: {
      comprehensive: "Comprehensive rescue", militia: "Militia rescue", fire: "Fire", flood: "Flood control", medical: "Medical",
      hazmat: "Hazmat", engineering: "Engineering", volunteer: "Volunteers", persuader: "Safety persuaders",
    },
  },
  teamKindShort: {
    zh: {
      comprehensive: "综合", militia: "民兵", fire: "消防", flood: "防汛", medical: "医疗", hazmat: "危化", engineering: "工程",
      volunteer: "志愿", persuader: "劝导",
    },
    en: {
      comprehensive: "Comp.", militia: "Militia", fire: "Fire", flood: "Flood", medical: "Medical", hazmat: "Hazmat",
      engineering: "Eng.", volunteer: "Volunt.", persuader: "Persuad.",
    },
  },
  unitKind: {
    zh: { district: "区", street: "街道", cluster: "产业集聚区", village: "行政村", community: "社区" },
    en: { district: "District", street: "Street", cluster: "Industrial cluster", village: "Village", community: "Community" },
  },
  role: {
    zh: { admin: "系统管理员", commander: "指挥长", operator: "值班员", field: "救援队伍", reporter: "灾害信息员", observer: "观察员" },
    en: { admin: "Administrator", commander: "Commander", operator: "Duty operator", field: "Field team", reporter: "Reporter", observer: "Observer" },
  },
  situation: {
    zh: { deaths: "死亡", injured: "受伤", missing: "失踪", evacuated: "转移", affected: "受灾" },
    en: { deaths: "Dead", injured: "Injured", missing: "Missing", evacuated: "Evacuated", affected: "Affected" },
  },
  errorCode: {
    zh: {
      validation_error: "输入有误", unknown_material: "未知物资", not_found: "未找到", forbidden: "无权执行此操作",
      unauthenticated: "未登录或登录已失效", invalid_transition: "当前状态下不能执行此操作", team_unavailable: "该队伍当前不能接受派遣",
      insufficient_stock: "库存不足", version_conflict: "数据已被他人修改，请重试", idempotency_mismatch: "同一幂等键的请求内容不一致",
      conflict: "操作冲突", projection_lag: "数据同步中，请稍后重试", payload_too_large: "请求内容过大",
      method_not_allowed: "不支持的操作", unsupported_media_type: "不支持的内容类型", internal_error: "服务器内部错误，命令未执行",
      network: "网络错误，无法连接服务器",
    },
    en: {
      validation_error: "Invalid input", unknown_material: "Unknown material", not_found: "Not found", forbidden: "Not allowed",
      unauthenticated: "Not signed in", invalid_transition: "Not possible in the current state", team_unavailable: "The team cannot take this dispatch",
      insufficient_stock: "Not enough stock", version_conflict: "Changed by someone else; try again", idempotency_mismatch: "Idempotency key reused with a different request",
      conflict: "Conflict", projection_lag: "Data is catching up; try again shortly", payload_too_large: "Request too large",
      method_not_allowed: "Method not allowed", unsupported_media_type: "Unsupported media type", internal_error: "Server error; the command was not applied",
      network: "Network error: the server cannot be reached",
    },
  },
  weekday: {
    zh: ["日", "一", "二", "三", "四", "五", "六"],
    en: ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"],
  },
};

let lang = (() => {
  try {
    const saved = localStorage.getItem(STORE_KEY);
    return saved === "en" || saved === "zh" ? saved : "zh";
  } catch {
    return "zh";
  }
})();
const listeners = new Set();

export function getLang() {
  return lang;
}

export function setLang(next) {
  if (next !== "zh" && next !== "en") return;
  lang = next;
  try {
    localStorage.setItem(STORE_KEY, next);
  } catch {
    /* private mode: keep it for this page only */
  }
  document.documentElement.lang = next === "zh" ? "zh-CN" : "en";
  applyStatic();
  for (const fn of listeners) fn(next);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, k) => (k in vars ? String(vars[k]) : m));
}

/** A label by key, with {placeholders} filled from vars. Falls back to Chinese, then to the key. */
export function t(key, vars) {
  const text = DICT[lang][key] ?? DICT.zh[key] ?? key;
  return fill(text, vars);
}

/** The word for an API value in one of the enumerations above; unknown values are shown as they are. */
export function label(group, value) {
  const g = LABELS[group];
  if (!g) return String(value ?? "");
  return g[lang]?.[value] ?? g.zh?.[value] ?? String(value ?? "");
}

export function labels(group) {
  return LABELS[group]?.[lang] ?? {};
}

// Materials come from GET /api/v1/materials (name_zh / name_en / unit); set once they are loaded.
let materials = {};
export function setMaterials(items) {
  materials = Object.fromEntries(items.map((m) => [m.code, m]));
}
export function materialName(code) {
  const m = materials[code];
  if (!m) return code;
  return lang === "en" ? m.name_en : m.name_zh;
}
export function materialUnit(code) {
  return materials[code]?.unit ?? "";
}
export function materialList() {
  return Object.values(materials);
}

/** Put labels on static markup: data-i18n (text), data-i18n-title, data-i18n-placeholder, data-i18n-aria. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll("[data-i18n-placeholder]")) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll("[data-i18n-aria]")) el.setAttribute("aria-label", t(el.dataset.i18nAria));
}

if (typeof document !== "undefined") document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
