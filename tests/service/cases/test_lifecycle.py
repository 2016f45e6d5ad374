import pytest

from service.cases.lifecycle import Status, TransitionError, next_status


@pytest.mark.parametrize(
    "current, action, expected",
    [
        ("new", "confirm", "confirmed"),
        ("new", "reject", "rejected"),
        ("confirmed", "dispatch", "dispatched"),
        ("dispatched", "dispatch", "dispatched"),
        ("dispatched", "handle", "handling"),
        ("handling", "resolve", "resolved"),
        ("resolved", "close", "closed"),
        ("resolved", "reopen", "reopened"),
        ("closed", "reopen", "reopened"),
        ("rejected", "reopen", "reopened"),
        ("reopened", "dispatch", "dispatched"),
    ],
    ids=[
        "a reviewer confirms a new case",
        "a reviewer rejects a false positive",
        "a confirmed case is dispatched",
        "a dispatched case is re-dispatched to another department",
        "the department starts handling",
        "the department resolves it",
        "verified closure",
        "the camera still sees it after resolve",
        "a closed case comes back",
        "a rejection was wrong",
        "a reopened case is dispatched again",
    ],
)
def test_allowed_transitions(current, action, expected):
    assert next_status(current, action) is Status(expected)


@pytest.mark.parametrize(
    "current, action",
    [("new", "dispatch"), ("new", "resolve"), ("rejected", "confirm"), ("closed", "handle"),
     ("confirmed", "close")],
    ids=["dispatch before review", "resolve a new case", "confirm a rejected case",
         "handle a closed case", "close an unresolved case"],
)  # fmt: skip
def test_forbidden_transitions_say_what_is_allowed(current, action):
    with pytest.raises(TransitionError, match=f"cannot {action} a case that is {current}"):
        next_status(current, action)
