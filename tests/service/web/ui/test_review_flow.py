"""A reviewer works the queue with the keyboard in headless Chromium, against the real app and
real replayed events: confirm, reject with a reason (and find the suppression), dispatch,
resolve, and watch the funnel on the dashboard move."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from tests.service.review_helpers import TOKENS, TOKENS_ENV
from tests.service.web.ui.conftest import screenshot

pytestmark = pytest.mark.slow


def api(live_app, path: str) -> dict:
    return httpx.get(live_app.url + path, timeout=10).json()


def funnel(page) -> dict[str, int]:
    return {
        stage: int(page.locator(f"[data-stage={stage}]").inner_text())
        for stage in ("detected", "reviewed", "confirmed", "dispatched", "closed")
    }


def wait_status(card, status: str) -> None:
    card.locator(f"xpath=self::*[@data-status='{status}']").wait_for(timeout=10_000)


def test_review_with_the_keyboard_from_queue_to_closure(live_app, page):
    page.goto(live_app.url + "/ui/dashboard")
    assert funnel(page) == dict(detected=4, reviewed=0, confirmed=0, dispatched=0, closed=0)

    page.goto(live_app.url + "/")
    cards = page.locator(".card[data-case-id]")
    ids = [cards.nth(i).get_attribute("data-case-id") for i in range(cards.count())]
    assert len(ids) == 4

    # j/k move the selection
    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    assert "selected" in cards.nth(1).get_attribute("class")
    page.keyboard.press("k")
    assert "selected" in cards.nth(0).get_attribute("class")

    # c confirms the first case and the selection moves on by itself
    page.keyboard.press("c")
    wait_status(cards.nth(0), "confirmed")
    assert "已确认" in cards.nth(0).inner_text()
    assert "selected" in cards.nth(1).get_attribute("class")

    # r opens the reason picker; 1 = wrong object rejects the second case
    page.keyboard.press("r")
    picker = page.locator("#reason-picker")
    assert picker.is_visible()
    assert "识别错误" in picker.inner_text() and "Permitted" in picker.inner_text()
    screenshot(page, "queue_reason_picker")
    page.keyboard.press("1")
    wait_status(cards.nth(1), "rejected")
    assert not picker.is_visible()

    # d on a new case confirms and dispatches it to the routed department
    assert "selected" in cards.nth(2).get_attribute("class")
    page.keyboard.press("d")
    wait_status(cards.nth(2), "dispatched")
    screenshot(page, "queue_after_review")

    assert api(live_app, f"/cases/{ids[0]}")["status"] == "confirmed"
    rejected = api(live_app, f"/cases/{ids[1]}")
    assert rejected["status"] == "rejected" and rejected["history"][-1]["actor"] == "local"
    assert rejected["history"][-1]["reason_code"] == "wrong_object"
    dispatched = api(live_app, f"/cases/{ids[2]}")
    assert [h["action"] for h in dispatched["history"]] == ["create", "confirm", "dispatch"]
    assert dispatched["department"] == "public_security"

    # the rejection's suppression is listed, for that camera and zone
    page.goto(live_app.url + "/ui/suppressions")
    rows = page.locator("#suppressions tr[data-suppression-id]")
    assert rows.count() == 1
    assert rejected["camera_id"] in rows.first.inner_text()
    assert "识别错误" in rows.first.inner_text() and "walkway" in rows.first.inner_text()
    screenshot(page, "suppressions_zh")
    hard_negatives = live_app.config.dataset_path / "hard_negatives" / "images"
    assert len(list(hard_negatives.iterdir())) == 2  # both events of the rejected case

    # the reviewed queue now holds the one case still new
    page.goto(live_app.url + "/")
    assert [c.get_attribute("data-case-id") for c in cards.all()] == [ids[3]]

    # on the case page of the dispatched case: h (handling), then s (resolve)
    page.goto(f"{live_app.url}/ui/cases/{ids[2]}")
    page.keyboard.press("h")
    page.wait_for_selector("body[data-status=handling]")
    page.keyboard.press("s")
    page.wait_for_selector("body[data-status=resolved]")
    history = page.locator(".history li")
    assert history.count() == 5 and "处置完成" in history.last.inner_text()
    screenshot(page, "case_resolved")

    # the verified closure (the case service's clock) closes it; the funnel moves
    from service.cases.store import CaseStore

    store = CaseStore(live_app.config.cases_url)
    assert store.close_verified(0) == [ids[2]]
    page.goto(live_app.url + "/ui/dashboard")
    assert funnel(page) == dict(detected=4, reviewed=3, confirmed=2, dispatched=1, closed=1)
    assert page.locator("#kpi-precision").inner_text() == "67%"
    assert page.locator("#kpi-closure").inner_text() == "33%"  # 1 closed of 3 real cases
    screenshot(page, "dashboard_after_review")
    assert page.errors == []


def test_a_suppression_is_lifted_from_the_ui(live_app, page):
    page.goto(live_app.url + "/")
    page.keyboard.press("r")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # permitted
    page.keyboard.press("Enter")
    wait_status(page.locator(".card[data-case-id]").first, "rejected")
    page.goto(live_app.url + "/ui/suppressions")
    assert "已许可" in page.locator("#suppressions").inner_text()
    page.locator("[data-remove-suppression]").first.click()
    page.wait_for_selector("#suppressions", state="detached")
    assert api(live_app, "/suppressions")["total"] == 0
    assert api(live_app, "/suppressions?active=false")["items"][0]["removed_by"] == "local"


def test_a_reviewer_logs_in_and_a_viewer_cannot_act(app_factory, page, caplog):
    caplog.set_level(logging.INFO, logger="uvicorn.access")
    live = app_factory(environ=TOKENS_ENV)
    page.goto(live.url + "/")
    page.wait_for_url("**/login?next=*")
    screenshot(page, "login")
    page.fill("#token", TOKENS["vic"][1])
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/")
    assert page.locator(".banner.viewer").is_visible()
    page.keyboard.press("c")
    page.locator("#toast .msg.error").wait_for()
    first = page.locator(".card[data-case-id]").first
    assert first.get_attribute("data-status") == "new"

    page.locator("form.logout button").click()
    page.wait_for_url("**/login")
    page.fill("#token", TOKENS["ana"][1])
    page.keyboard.press("Enter")
    page.wait_for_url(live.url + "/")
    page.keyboard.press("c")
    wait_status(first, "confirmed")
    case_id = first.get_attribute("data-case-id")
    headers = {"Authorization": f"Bearer {TOKENS['root'][1]}"}
    detail = httpx.get(f"{live.url}/cases/{case_id}", headers=headers).json()
    assert detail["history"][-1]["actor"] == "ana"
    logged = caplog.text
    assert "uvicorn.access" in {r.name for r in caplog.records}
    for _, token in TOKENS.values():
        assert token not in logged


def test_fifty_cases_with_the_keyboard(app_factory, page, replayed, capsys):
    """40 real ones dispatched with one key (d), 10 false positives rejected with two (r 1)."""
    from service.cases.service import CaseService
    from service.config import load_config
    from service.queue.sqlite import SqliteEventQueue

    live = app_factory()
    config = load_config(live.config_path)
    queue = SqliteEventQueue(config.queue_url)
    originals = queue.list(limit=100).items
    for n in range(50 - replayed.cases):
        event = originals[n % len(originals)]
        queue.post(event.model_copy(update={"id": f"clone{n:02d}", "camera_id": f"cam-{n:02d}"}))
    CaseService(config, queue).drain()

    page.goto(live.url + "/")
    cards = page.locator(".card[data-case-id]")
    assert cards.count() == 50
    keys = 0
    started = time.perf_counter()
    for n in range(50):
        if n % 5 == 4:
            page.keyboard.press("r")
            page.keyboard.press("1")
            keys += 2
        else:
            page.keyboard.press("d")
            keys += 1
    page.wait_for_function("document.querySelectorAll('.card.done').length === 50", timeout=60_000)
    seconds = time.perf_counter() - started
    statuses = [c.get_attribute("data-status") for c in cards.all()]
    assert statuses.count("dispatched") == 40 and statuses.count("rejected") == 10
    assert api(live, "/cases?status=dispatched&limit=1")["total"] == 40
    assert api(live, "/suppressions")["total"] == 10
    screenshot(page, "queue_fifty_done")
    with capsys.disabled():
        print(f"\n50 cases: {keys} keys, {seconds:.1f} s from the first key to the last reply")
    assert keys == 60
    assert page.errors == []
