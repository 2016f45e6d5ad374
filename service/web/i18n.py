"""Chinese and English labels for the review UI: event types, case states, rejection reasons,
departments, camera states and the UI's own words.

``zh`` (the default: the users are Chinese street offices) shows the Chinese label with the
English one beside it; ``en`` shows English only. Unknown values fall back to the value itself.
"""

from __future__ import annotations

from typing import Literal

from vision.rules.registry import EVENT_KINDS

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")
DEFAULT_LANG: Lang = "zh"

# kind -> value -> (zh, en)
LABELS: dict[str, dict[str, tuple[str, str]]] = {
    "type": {
        **{name: (kind.zh, kind.en) for name, kind in EVENT_KINDS.items()},
        "bin_overflow": ("垃圾满溢", "Overflowing bin"),
        "camera_offline": ("摄像头离线", "Camera offline"),
    },
    "status": {
        "new": ("待审核", "New"),
        "confirmed": ("已确认", "Confirmed"),
        "rejected": ("已驳回（误报）", "Rejected (false positive)"),
        "dispatched": ("已派单", "Dispatched"),
        "handling": ("处置中", "Handling"),
        "resolved": ("已处置", "Resolved"),
        "closed": ("已结案", "Closed"),
        "reopened": ("重新打开", "Reopened"),
    },
    "action": {
        "create": ("创建", "Created"),
        "confirm": ("确认", "Confirm"),
        "reject": ("驳回", "Reject"),
        "dispatch": ("派单", "Dispatch"),
        "handle": ("开始处置", "Start handling"),
        "resolve": ("处置完成", "Resolve"),
        "close": ("结案", "Close"),
        "reopen": ("重新打开", "Reopen"),
        "comment": ("备注", "Comment"),
        "escalate": ("超期升级", "Escalated"),
    },
    "reason": {
        "wrong_object": ("识别错误", "Wrong object"),
        "outside_zone": ("不在区域内", "Outside the zone"),
        "permitted": ("已许可", "Permitted"),
        "duplicate": ("重复", "Duplicate"),
        "other": ("其他", "Other"),
    },
    "department": {
        "city_management": ("城管", "City management"),
        "sanitation": ("环卫", "Sanitation"),
        "public_security": ("公安 / 街道", "Public security"),
        "work_safety": ("安监", "Work safety"),
        "water_affairs": ("水务", "Water affairs"),
        "it_operations": ("运维", "IT operations"),
        "street_office": ("街道办", "Street office"),
    },
    "camera_state": {
        "starting": ("启动中", "Starting"),
        "online": ("在线", "Online"),
        "frozen": ("画面冻结", "Frozen"),
        "offline": ("离线", "Offline"),
        "stopped": ("已停止", "Stopped"),
        "unknown": ("未上报", "Unknown"),
    },
    "severity": {
        "low": ("低", "Low"),
        "normal": ("一般", "Normal"),
        "high": ("高", "High"),
    },
    "ui": {
        "app": ("街面智能巡查", "Street inspection"),
        "queue": ("审核队列", "Review queue"),
        "case": ("案件", "Case"),
        "cases": ("案件", "Cases"),
        "cameras": ("摄像头", "Cameras"),
        "dashboard": ("统计看板", "Dashboard"),
        "suppressions": ("抑制规则", "Suppressions"),
        "login": ("登录", "Log in"),
        "logout": ("退出", "Log out"),
        "to_review": ("待审核", "To review"),
        "all": ("全部", "All"),
        "all_types": ("全部类型", "All types"),
        "all_cameras": ("全部摄像头", "All cameras"),
        "filter": ("筛选", "Filter"),
        "camera": ("摄像头", "Camera"),
        "zone": ("区域", "Zone"),
        "type": ("类型", "Type"),
        "status": ("状态", "Status"),
        "time": ("时间", "Time"),
        "score": ("置信度", "Score"),
        "events": ("事件", "Events"),
        "department": ("处置部门", "Department"),
        "deadline": ("办结时限", "Deadline"),
        "overdue": ("已超期", "Overdue"),
        "on_time": ("未超期", "On time"),
        "history": ("处置记录", "History"),
        "evidence": ("证据", "Evidence"),
        "actions": ("操作", "Actions"),
        "comment": ("备注", "Comment"),
        "reason": ("原因", "Reason"),
        "note": ("说明", "Note"),
        "cancel": ("取消", "Cancel"),
        "period": ("时间范围", "Period"),
        "last_hour": ("近1小时", "Last hour"),
        "last_day": ("近24小时", "Last 24 h"),
        "last_week": ("近7天", "Last 7 days"),
        "no_cases": ("没有待处理的案件", "Nothing to review"),
        "pending_events": ("尚未生成案件的事件", "Events not yet in a case"),
        "local_mode": (
            "本地模式：未配置访问令牌，仅限本机访问",
            "Local mode: no access tokens configured, bound to 127.0.0.1 only",
        ),
        "read_only": ("只读账号", "Read-only (viewer)"),
        "funnel": ("处置漏斗", "Funnel"),
        "detected": ("发现", "Detected"),
        "reviewed": ("已审核", "Reviewed"),
        "closure_rate": ("结案率", "Closure rate"),
        "precision": ("审核准确率", "Reviewer precision"),
        "per_type": ("按类型", "By type"),
        "per_camera": ("按摄像头", "By camera"),
        "events_per_hour": ("每小时事件数", "Events per hour"),
        "overdue_cases": ("超期案件", "Overdue cases"),
        "mean_hours": ("平均结案用时", "Mean time to close"),
        "state": ("状态", "State"),
        "last_frame": ("最新画面", "Last frame"),
        "frames": ("帧", "Frames"),
        "restarts": ("重启", "Restarts"),
        "last_error": ("最近错误", "Last error"),
        "expires": ("到期", "Expires"),
        "created_by": ("创建人", "Created by"),
        "region": ("区域框", "Region"),
        "remove": ("移除", "Remove"),
        "keys": ("快捷键", "Keys"),
        "token": ("访问令牌", "Access token"),
        "timeline": ("时间线", "Timeline"),
        "clean_frame": ("原始画面", "Clean frame"),
        "snapshot": ("抓拍", "Snapshot"),
        "clip": ("视频片段", "Clip"),
        "next_page": ("下一页", "Next page"),
        "prev_page": ("上一页", "Previous page"),
        "new_arrived": ("有新案件，按 u 刷新", "New cases arrived: press u to refresh"),
    },
}


def pick_lang(value: str | None) -> Lang:
    return value if value in LANGS else DEFAULT_LANG  # type: ignore[return-value]


def text(kind: str, value: str, lang: Lang = DEFAULT_LANG) -> str:
    """One label as plain text: ``人员聚集 Crowding`` (zh) or ``Crowding`` (en)."""
    zh, en = LABELS.get(kind, {}).get(value, (value, value))
    if lang == "en" or zh == en:
        return en
    return f"{zh} {en}"


def parts(kind: str, value: str, lang: Lang = DEFAULT_LANG) -> tuple[str, str | None]:
    """(main label, secondary label or None): for templates that show English smaller."""
    zh, en = LABELS.get(kind, {}).get(value, (value, value))
    if lang == "en" or zh == en:
        return en, None
    return zh, en
