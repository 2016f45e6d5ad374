"""The case lifecycle: which action moves a case from which status to which.

new -> confirmed | rejected (false positive) -> dispatched -> handling -> resolved -> closed,
plus reopened (the camera still sees the violation after "resolved", or a person reopens it).
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    DISPATCHED = "dispatched"
    HANDLING = "handling"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class Action(StrEnum):
    CONFIRM = "confirm"
    REJECT = "reject"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    RESOLVE = "resolve"
    CLOSE = "close"
    REOPEN = "reopen"


ACTIVE = frozenset(
    {Status.NEW, Status.CONFIRMED, Status.DISPATCHED, Status.HANDLING, Status.REOPENED}
)
"""Statuses in which the case is someone's work (deadlines run, new events join it)."""
FINISHED = frozenset({Status.CLOSED, Status.REJECTED})

TARGET = {
    Action.CONFIRM: Status.CONFIRMED,
    Action.REJECT: Status.REJECTED,
    Action.DISPATCH: Status.DISPATCHED,
    Action.HANDLE: Status.HANDLING,
    Action.RESOLVE: Status.RESOLVED,
    Action.CLOSE: Status.CLOSED,
    Action.REOPEN: Status.REOPENED,
}

ALLOWED_FROM: dict[Action, frozenset[Status]] = {
    Action.CONFIRM: frozenset({Status.NEW, Status.REOPENED}),
    Action.REJECT: frozenset({Status.NEW, Status.CONFIRMED, Status.REOPENED}),
    Action.DISPATCH: frozenset({Status.CONFIRMED, Status.REOPENED, Status.DISPATCHED}),
    Action.HANDLE: frozenset({Status.DISPATCHED}),
    Action.RESOLVE: frozenset({Status.DISPATCHED, Status.HANDLING}),
    Action.CLOSE: frozenset({Status.RESOLVED}),
    Action.REOPEN: frozenset({Status.RESOLVED, Status.CLOSED, Status.REJECTED}),
}


class TransitionError(Exception):
    """An action that the case's status does not allow; the message lists what is allowed."""


def next_status(current: Status | str, action: Action | str) -> Status:
    current, action = Status(current), Action(action)
    if current not in ALLOWED_FROM[action]:
        allowed = sorted(a.value for a, sources in ALLOWED_FROM.items() if current in sources)
        raise TransitionError(
            f"cannot {action.value} a case that is {current.value} "
            f"(allowed: {', '.join(allowed) or 'nothing'})"
        )
    return TARGET[action]
