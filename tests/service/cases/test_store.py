from datetime import UTC, datetime, timedelta

import pytest

from service.cases.ground import ground_position
from service.cases.lifecycle import TransitionError
from service.cases.routing import Route, Router
from service.cases.store import CaseNotFound, CaseStore
from vision.types import Event

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def event(id, *, type="garbage", camera="cam-1", zone="z1", seen=T0, boxes=None, n=1):
    stamp = seen.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    return Event(
        id=id, type=type, camera_id=camera, zone=zone, video_t0=0, video_t1=1,
        first_seen=stamp, last_seen=stamp, score=0.8,
        boxes=boxes if boxes is not None else [[100.0, 100.0, 120.0, 160.0]], observations=n,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path):
    router = Router({"garbage": Route(department="sanitation", deadline_min=60)})
    return CaseStore(f"sqlite:///{tmp_path / 'cases.db'}", router, merge_distance_m=10)


def test_events_of_one_place_share_a_case_and_are_routed(store):
    first = store.attach(event("e1"), now=T0)
    second = store.attach(event("e2", seen=T0 + timedelta(minutes=5)), now=T0)
    assert first.created and not second.created and first.case_id == second.case_id
    case = store.get(first.case_id)
    assert (case.status, case.department, len(case.events)) == ("new", "sanitation", 2)
    assert case.deadline.replace(tzinfo=UTC) == T0 + timedelta(minutes=60)
    assert [t.action for t in case.transitions] == ["create"]


@pytest.mark.parametrize(
    "other, same_case",
    [
        (dict(zone="z2"), False),
        (dict(type="crowding"), False),
        (dict(camera="cam-2"), False),
    ],
    ids=["another zone", "another type", "another camera, no homography"],
)
def test_different_places_or_types_get_their_own_case(store, other, same_case):
    a = store.attach(event("e1"))
    b = store.attach(event("e2", **other))
    assert (a.case_id == b.case_id) is same_case


def test_two_cameras_seeing_one_pile_on_the_ground_make_one_case(store):
    eagle_h = [[0.1, 0, 0], [0, 0.1, 0], [0, 0, 1]]  # 10 px per metre
    ground_h = [[0.05, 0, 2], [0, 0.05, 5], [0, 0, 1]]  # 20 px per metre, offset
    eagle = event("e-eagle", camera="eagle-1", boxes=[[100, 100, 140, 150]])
    ground = event("e-ground", camera="ground-3", zone="kerb", boxes=[[120, 40, 220, 100]])
    far = event("e-far", camera="ground-3", zone="far", boxes=[[1500, 900, 1600, 1000]])
    pos_eagle = ground_position(eagle, eagle_h)
    pos_ground = ground_position(ground, ground_h)
    assert pos_eagle == pytest.approx((12.0, 15.0)) and pos_ground == pytest.approx((10.5, 10.0))
    a = store.attach(eagle, pos_eagle)
    b = store.attach(ground, pos_ground)
    c = store.attach(far, ground_position(far, ground_h))
    assert a.case_id == b.case_id != c.case_id
    assert {e.camera_id for e in store.get(a.case_id).events} == {"eagle-1", "ground-3"}


def test_attaching_the_same_event_again_is_idempotent(store):
    a = store.attach(event("e1"))
    b = store.attach(event("e1", n=5))
    assert a.case_id == b.case_id and not b.created
    case = store.get(a.case_id)
    assert len(case.events) == 1 and case.events[0].payload["observations"] == 5


def test_the_full_lifecycle_is_recorded_with_who_and_why(store):
    case_id = store.attach(event("e1"), now=T0).case_id
    store.transition(case_id, "confirm", "li.wei", "pile on the kerb", now=T0)
    store.transition(case_id, "dispatch", "li.wei", department="sanitation-east", now=T0)
    store.transition(case_id, "handle", "crew-7", now=T0)
    store.comment(case_id, "crew-7", "truck on the way", now=T0)
    store.transition(case_id, "resolve", "crew-7", "cleared", now=T0)
    case = store.get(case_id)
    assert case.status == "resolved" and case.department == "sanitation-east"
    history = [(t.action, t.from_status, t.to_status, t.actor) for t in case.transitions]
    assert history == [
        ("create", None, "new", "system"),
        ("confirm", "new", "confirmed", "li.wei"),
        ("dispatch", "confirmed", "dispatched", "li.wei"),
        ("handle", "dispatched", "handling", "crew-7"),
        ("comment", "handling", "handling", "crew-7"),
        ("resolve", "handling", "resolved", "crew-7"),
    ]


def test_an_illegal_transition_changes_nothing(store):
    case_id = store.attach(event("e1")).case_id
    with pytest.raises(TransitionError):
        store.transition(case_id, "resolve", "someone")
    assert store.get(case_id).status == "new"
    with pytest.raises(CaseNotFound):
        store.transition("nope", "confirm", "someone")


def resolved_case(store):
    case_id = store.attach(event("e1"), now=T0).case_id
    for action in ("confirm", "dispatch", "resolve"):
        store.transition(case_id, action, "op", now=T0 + timedelta(minutes=10))
    return case_id


def test_a_violation_still_seen_after_resolve_reopens_the_case(store):
    case_id = resolved_case(store)
    again = store.attach(
        event("e9", seen=T0 + timedelta(minutes=12)), now=T0 + timedelta(minutes=12)
    )
    assert again.case_id == case_id and again.reopened
    case = store.get(case_id)
    assert case.status == "reopened" and case.verified is False
    assert "still sees the violation" in case.transitions[-1].reason


def test_an_old_observation_after_resolve_does_not_reopen(store):
    case_id = resolved_case(store)
    late_post = store.attach(event("e1", n=3, seen=T0 + timedelta(minutes=5)))
    assert not late_post.reopened and store.get(case_id).status == "resolved"


def test_a_clean_verification_window_closes_the_case_as_verified(store):
    case_id = resolved_case(store)
    assert store.close_verified(300, now=T0 + timedelta(minutes=12)) == []
    assert store.close_verified(300, now=T0 + timedelta(minutes=16)) == [case_id]
    case = store.get(case_id)
    assert case.status == "closed" and case.verified is True


def test_overdue_cases_escalate_once_per_deadline_period(store):
    case_id = store.attach(event("e1"), now=T0).case_id
    assert store.escalate_overdue(now=T0 + timedelta(minutes=59)) == []
    assert [c.id for c in store.escalate_overdue(now=T0 + timedelta(minutes=61))] == [case_id]
    assert store.escalate_overdue(now=T0 + timedelta(minutes=90)) == []
    assert [
        c.escalation_level for c in store.escalate_overdue(now=T0 + timedelta(minutes=122))
    ] == [2]
    overdue, total = store.list(overdue=True, now=T0 + timedelta(minutes=122))
    assert total == 1 and overdue[0].id == case_id
    assert "escalated to" in store.get(case_id).transitions[-1].reason


def test_list_filters(store):
    a = store.attach(event("e1")).case_id
    store.attach(event("e2", type="crowding", camera="cam-2"))
    store.transition(a, "confirm", "op")
    assert store.list(status="confirmed")[1] == 1
    assert store.list(type="crowding")[1] == 1
    assert store.list(camera_id="cam-2")[1] == 1
    assert store.list(department="public_security")[1] == 1
    rows, total = store.list(limit=1, offset=1)
    assert total == 2 and len(rows) == 1
