"""Every page of the review UI renders the replayed data readably, in Chinese (with English
beside it) and in English, without script errors; a screenshot of each is kept."""

from __future__ import annotations

import pytest

from tests.service.web.ui.conftest import screenshot

pytestmark = pytest.mark.slow
ALL_IMAGES_LOADED = "[...document.images].every(img => img.complete && img.naturalWidth > 0)"


def test_the_queue_shows_a_card_per_case_with_its_snapshot(live_app, page, replayed):
    page.goto(live_app.url + "/")
    cards = page.locator(".card[data-case-id]")
    assert cards.count() == replayed.cases == 4
    assert page.locator("#local-mode").is_visible()
    first = cards.first
    assert "selected" in first.get_attribute("class")
    page.wait_for_function(ALL_IMAGES_LOADED, timeout=10_000)
    assert "人员聚集" in first.inner_text() and "Crowding" in first.inner_text()
    assert "待审核" in first.inner_text()
    screenshot(page, "queue_zh")
    assert page.errors == []


def test_the_case_page_shows_the_evidence_history_and_deadline(live_app, page):
    page.goto(live_app.url + "/")
    page.keyboard.press("Enter")
    page.wait_for_url("**/ui/cases/*")
    figures = page.locator("figure.ev")
    assert figures.count() == 2  # the clip's two gatherings, merged into one case
    page.wait_for_function(ALL_IMAGES_LOADED, timeout=10_000)
    assert figures.first.locator("img").evaluate("img => img.naturalWidth") == 768
    assert page.locator(".history li").count() == 1  # created
    assert "办结时限" in page.locator(".facts").inner_text()
    assert page.locator("svg.chart-timeline").count() == 1
    screenshot(page, "case_zh")
    assert page.errors == []


def test_the_cameras_page_shows_health_and_thumbnails(live_app, page):
    page.goto(live_app.url + "/ui/cameras?lang=en")
    cams = page.locator("article.cam")
    assert cams.count() == 4
    offline = page.locator("article.cam[data-camera-id=demo-04]")
    assert "Offline" in offline.inner_text() and "connection refused" in offline.inner_text()
    page.wait_for_function(ALL_IMAGES_LOADED, timeout=10_000)
    assert cams.first.locator("img").evaluate("img => img.naturalWidth") == 768
    screenshot(page, "cameras_en")
    assert page.errors == []


def test_the_dashboard_draws_the_funnel_and_events_per_hour(live_app, page):
    page.goto(live_app.url + "/ui/dashboard")
    assert page.locator("#kpi-detected").inner_text() == "4"
    assert page.locator("svg.chart-funnel").count() == 1
    assert page.locator("svg.chart-columns rect").count() >= 1
    screenshot(page, "dashboard_zh")
    assert page.errors == []
