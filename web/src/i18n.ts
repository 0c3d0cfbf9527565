// zh-CN first, English as the switch (issue 16). Element Plus gets the matching locale.
import { createI18n } from "vue-i18n";

const zh = {
  app: { title: "信访工作台", lang: "English", signOut: "退出", node: "节点" },
  menu: { workbench: "工作台", intake: "登记", supervision: "督办", stats: "统计", audit: "审计", ops: "运维" },
  login: {
    title: "信访工作台登录", person: "账号", password: "密码", totp: "动态口令（6 位）", submit: "登录",
    oidc: "统一身份认证登录", hint: "请输入账号、密码与身份验证器中的动态口令。",
    or: "或", oidcPending: "正在完成登录…", back: "返回登录页",
    required: "请填写此项",
  },
  wb: {
    title: "待办事项", mine: "待本单位办理", all: "本节点可见的全部事项", empty: "暂无事项",
    search: "搜索编号或标题", status: "状态", category: "类别", urgency: "期限",
    caseId: "事项编号", caseTitle: "标题", holder: "当前承办", nextDue: "最近期限", rule: "依据",
    overdue: "已逾期", soon: "即将到期", ok: "期限内", none: "无期限", count: "{n} 件",
    keys: "↑↓ 选择，Enter 打开，/ 搜索", loading: "正在加载…", refresh: "刷新",
  },
  due: { route: "转送、交办", acceptance: "受理告知", handling: "办结", supervision: "督办反馈" },
  doc: { menu: "文书", open: "打开", pdf: "下载 PDF", none: "暂无可出具的文书" },
  detail: {
    record: "事项信息", timeline: "跨层级时间线", deadlines: "期限", acts: "可办理的操作",
    noActs: "当前没有可办理的操作", received: "收到时间", place: "问题属地", version: "版本",
    final: "已终结", queryCode: "查询码", back: "返回工作台", provisional: "暂定（当年节假日安排未发布）",
    division: "层级", body: "机关", refused: "操作被拒绝", done: "已记录", submit: "提交",
    cancel: "取消", outcome: "处理结果",
  },
  act: {
    transfer: "转送", assign: "交办", divert: "诉访分离", object: "提出异议", return: "同意退回",
    accept: "受理", reject: "不予受理", extend: "延期", opinion: "出具处理意见", serve: "送达",
    complete: "办结报告", "review-request": "登记复查请求", "review-decide": "出具复查意见",
    "re-review-request": "登记复核请求", "re-review-decide": "出具复核意见", close: "终结",
    supervise: "督办", "answer-supervision": "督办反馈", evaluate: "满意度评价",
  },
  field: {
    to_body: "接收机关", note: "说明", report_within_days: "办结报告期限（日）", route: "途径",
    guidance: "告知信访人的途径", reasons: "理由", simplified: "简易办理", days: "延长天数",
    approved_by: "批准人", outcome: "处理结果", opinion: "处理意见", legal_basis: "法律依据",
    kind: "文书种类", summary: "办理结果", result: "结论", rehandle_within_days: "重新办理期限（日）",
    reason: "终结理由", level: "督办层级", supervision_id: "督办编号", answer: "反馈内容",
    adopted: "采纳建议", handling_rating: "对办理机关", office_rating: "对信访部门", comment: "评价意见",
  },
  intake: {
    title: "登记信访事项", channel: "信访渠道", category: "事项类别", request: "诉求", facts: "事实",
    place: "问题属地", name: "信访人姓名", anonymous: "匿名", contact: "联系方式", address: "地址",
    accused: "被反映人/单位", accusedBody: "被反映单位", collective: "人数", representatives: "代表人数",
    flags: "标记", urgent: "重大紧急", litigation: "涉法涉诉", repeatOf: "重复件（原事项编号）",
    submit: "登记", registered: "已登记：", nameOrAnonymous: "请填写姓名，或标记为匿名",
    badContact: "请填写 11 位手机号、带区号的固定电话或电子邮箱", tooManyReps: "走访代表人数不超过 {n} 人（R14）",
    accusedNeeded: "检举控告须填写被反映人/单位（R17）",
  },
  ops: { title: "节点状态", refresh: "刷新", key: "项目", value: "值" },
  sv: {
    title: "督办", overdue: "逾期未办", records: "督办记录", body: "承办机关", division: "行政区划",
    obligation: "逾期义务", due: "期限", late: "逾期天数", level: "督办层级", answerDue: "反馈期限",
    answered: "已反馈", open: "未反馈", byBody: "各机关逾期件数", none: "无",
  },
  st: {
    title: "考核统计", andChildren: "及所辖区划", from: "开始日期", to: "结束日期", period: "统计期间",
    query: "查询", xlsx: "导出 Excel", cases: "事项 {n} 件", division: "区划", registered: "登记",
    received: "收到", rates: "考核比率", supervision: "督办情况", supervised: "被督办", issued: "发出督办",
    overdueOpen: "逾期未办", late: "逾期办结",
  },
  au: {
    title: "审计", notAuditor: "本页面供审计员与审计管理员使用。", log: "本节点日志", state: "状态",
    ok: "正常", degraded: "异常", head: "日志头", checkpoint: "最近检查点", covers: "覆盖至", noCheckpoint: "尚无检查点",
    since: "检查点后记录数", key: "签名密钥", trail: "操作审计记录头", pending: "待发送", checks: "节点自检",
    count: { log_events: "日志记录", case_events: "事项事件", inbox: "已收记录", parked: "等待前序事件", chain_parked: "等待链缺口", outbox_set_aside: "搁置记录" },
    verify: "链验证（audit verify）", sources: "各直接来源的链", source: "来源", lastSeq: "最新序号", lastHash: "最新哈希",
    sourceCheckpoint: "检查点位置", parked: "暂存", refused: "曾拒收", yes: "是", no: "否", updated: "更新时间",
    noSources: "尚未收到其他节点的记录", trailTitle: "操作审计记录", person: "人员", at: "时间", action: "操作",
    status: "状态码", code: "错误码", more: "更多",
  },
  pd: {
    title: "信访人", masked: "已脱敏", shown: "已显示（理由已记录）", name: "姓名", contact: "联系方式", address: "地址",
    id_number: "身份证号", anonymous: "匿名", reveal: "显示（需填写理由）", reason: "查看理由（4–200 字）",
    hint: "查看完整个人信息将连同理由记入操作审计记录。", submit: "显示",
  },
  placeholder: { title: "建设中", text: "此页面将在后续版本中提供（议题 16）。" },
};

const en: typeof zh = {
  app: { title: "Petition workbench", lang: "中文", signOut: "Sign out", node: "Node" },
  menu: { workbench: "Workbench", intake: "Intake", supervision: "Supervision", stats: "Statistics", audit: "Audit", ops: "Operations" },
  login: {
    title: "Sign in to the workbench", person: "Account", password: "Password", totp: "One-time code (6 digits)", submit: "Sign in",
    oidc: "Sign in with the identity provider", hint: "Enter your account, password and the code of your authenticator app.",
    or: "or", oidcPending: "Completing the sign-in…", back: "Back to sign-in",
    required: "Required",
  },
  wb: {
    title: "To do", mine: "Awaiting my body", all: "All cases visible at this node", empty: "No cases",
    search: "Search id or title", status: "Status", category: "Category", urgency: "Deadline",
    caseId: "Case", caseTitle: "Title", holder: "Held by", nextDue: "Next deadline", rule: "Rule",
    overdue: "Overdue", soon: "Due soon", ok: "In time", none: "No deadline", count: "{n}",
    keys: "↑↓ select, Enter open, / search", loading: "Loading…", refresh: "Refresh",
  },
  due: { route: "transfer or assign", acceptance: "acceptance notice", handling: "handling", supervision: "supervision answer" },
  doc: { menu: "Documents", open: "Open", pdf: "Download PDF", none: "No documents yet" },
  detail: {
    record: "Record", timeline: "Timeline across levels", deadlines: "Deadlines", acts: "Acts you may do",
    noActs: "No act applies now", received: "Received", place: "Place", version: "Version",
    final: "Final", queryCode: "Query code", back: "Back to the workbench", provisional: "provisional (holiday schedule not published)",
    division: "Division", body: "Body", refused: "Refused", done: "Recorded", submit: "Submit",
    cancel: "Cancel", outcome: "Outcome",
  },
  act: {
    transfer: "Transfer", assign: "Assign", divert: "Divert", object: "Object", return: "Agree to return",
    accept: "Accept", reject: "Decline", extend: "Extend", opinion: "Issue opinion", serve: "Serve",
    complete: "Completion report", "review-request": "Review request", "review-decide": "Decide review",
    "re-review-request": "Re-review request", "re-review-decide": "Decide re-review", close: "Close",
    supervise: "Supervise", "answer-supervision": "Answer supervision", evaluate: "Evaluation",
  },
  field: {
    to_body: "Receiving body", note: "Note", report_within_days: "Days to report", route: "Route",
    guidance: "Guidance to the petitioner", reasons: "Reasons", simplified: "Simplified", days: "Days",
    approved_by: "Approved by", outcome: "Outcome", opinion: "Opinion", legal_basis: "Legal basis",
    kind: "Document", summary: "Result", result: "Result", rehandle_within_days: "Days to handle again",
    reason: "Reason", level: "Level", supervision_id: "Supervision id", answer: "Answer",
    adopted: "Suggestions adopted", handling_rating: "Handling body", office_rating: "Petition office", comment: "Comment",
  },
  intake: {
    title: "Register a petition", channel: "Channel", category: "Category", request: "Request", facts: "Facts",
    place: "Place", name: "Petitioner", anonymous: "Anonymous", contact: "Contact", address: "Address",
    accused: "Accused person or unit", accusedBody: "Accused body", collective: "People", representatives: "Representatives",
    flags: "Flags", urgent: "Urgent", litigation: "Litigation related", repeatOf: "Repeat of (case id)",
    submit: "Register", registered: "Registered:", nameOrAnonymous: "Give the name, or mark it anonymous",
    badContact: "An 11-digit mobile number, a landline with area code, or an e-mail address", tooManyReps: "At most {n} representatives of a visit (R14)",
    accusedNeeded: "An accusation names the accused person or unit (R17)",
  },
  ops: { title: "Node status", refresh: "Refresh", key: "Item", value: "Value" },
  sv: {
    title: "Supervision", overdue: "Overdue", records: "Supervisions", body: "Held by", division: "Division",
    obligation: "Obligation", due: "Due", late: "Days late", level: "Level", answerDue: "Answer due",
    answered: "Answered", open: "Open", byBody: "Overdue per body", none: "None",
  },
  st: {
    title: "Assessment", andChildren: "and its divisions", from: "From", to: "To", period: "Period",
    query: "Query", xlsx: "Export to Excel", cases: "{n} cases", division: "Division", registered: "Registered",
    received: "Received", rates: "Rates", supervision: "Supervision", supervised: "Supervised", issued: "Issued",
    overdueOpen: "Overdue", late: "Late",
  },
  au: {
    title: "Audit", notAuditor: "This page is for auditors and audit administrators.", log: "This node's log", state: "State",
    ok: "OK", degraded: "Degraded", head: "Log head", checkpoint: "Last checkpoint", covers: "covers", noCheckpoint: "No checkpoint yet",
    since: "Records since", key: "Signing key", trail: "Operator trail head", pending: "pending", checks: "The node's own checks",
    count: { log_events: "Log records", case_events: "Case events", inbox: "Records received", parked: "Waiting for causes", chain_parked: "Waiting on a chain gap", outbox_set_aside: "Set aside" },
    verify: "Chain verification (audit verify)", sources: "Chains of the direct sources", source: "Source", lastSeq: "Last seq", lastHash: "Last hash",
    sourceCheckpoint: "Checkpoint at", parked: "Parked", refused: "Refused one", yes: "yes", no: "no", updated: "Updated",
    noSources: "No records from other nodes yet", trailTitle: "Operator trail", person: "Person", at: "Time", action: "Action",
    status: "Status", code: "Code", more: "More",
  },
  pd: {
    title: "Petitioner", masked: "masked", shown: "shown (reason recorded)", name: "Name", contact: "Contact", address: "Address",
    id_number: "ID number", anonymous: "anonymous", reveal: "Show (give a reason)", reason: "Reason (4–200 characters)",
    hint: "Viewing the full personal data is recorded in the operator trail with your reason.", submit: "Show",
  },
  placeholder: { title: "Coming", text: "This page comes in a later version (issue 16)." },
};

export const LOCALE_KEY = "xf.locale";

export const i18n = createI18n({
  legacy: false,
  locale: localStorage.getItem(LOCALE_KEY) === "en" ? "en" : "zh-CN",
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zh, en },
});
