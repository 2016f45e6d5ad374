"""The review UI's pages rendered by the app (no browser): filters, languages, labels, charts,
and the lightweight analytics the dashboard reads."""

import pytest
from fastapi.testclient import TestClient

from service.cases.analytics import analytics
from service.cases.lifecycle import Action, Status
from service.cases.suppressions import RejectReason
from service.web.app import create_app
from service.web.i18n import LABELS, text
from service.web.ui import charts as ui_charts
from tests.service.review_helpers import make_config, make_event, seed

OLD = "2025-06-01T10:00:00.000Z"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    config = make_config(tmp_path_factory.mktemp("ui-pages"))
    service = seed(
        config,
        [
            make_event(config, "e1", camera="cam-1", seen=OLD),
            make_event(config, "e2", camera="cam-2", type="garbage", zone="kerb", seen=OLD),
            make_event(config, "e3", camera="cam-2", zone="<b>odd</b>", seen=OLD),
        ],
    )
    client = TestClient(create_app(config, service.store, environ={}))
    cid = client.get("/cases?camera=cam-1").json()["items"][0]["id"]
    client.post(f"/cases/{cid}/transitions", json={"action": "confirm"})
    return config, service.store, client, cid


@pytest.mark.parametrize(
    "query, count",
    [
        ("", 2),
        ("?status=confirmed", 1),
        ("?status=all", 3),
        ("?status=all&camera=cam-2", 2),
        ("?status=all&type=garbage", 1),
        ("?status=all&period=1h", 0),
        ("?status=bogus", 2),
        ("?status=all&limit=2&offset=2", 1),
    ],
    ids=[
        "to review",
        "confirmed",
        "all",
        "by camera",
        "by type",
        "last hour (the events are older)",
        "an unknown status means to review",
        "second page",
    ],
)
def test_queue_filters(app, query, count):
    _, _, client, _ = app
    page = client.get(f"/{query}")
    assert page.status_code == 200
    assert page.text.count("data-case-id=") == count


def test_user_text_is_escaped(app):
    _, _, client, _ = app
    page = client.get("/?status=all").text
    assert "<b>odd</b>" not in page and "&lt;b&gt;odd&lt;/b&gt;" in page


@pytest.mark.parametrize(
    "path",
    ["/", "/ui/cameras", "/ui/dashboard", "/ui/suppressions", "/ui/suppressions?all=true"],
)
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_renders_in_both_languages(app, path, lang):
    _, _, client, _ = app
    joiner = "&" if "?" in path else "?"
    page = client.get(f"{path}{joiner}lang={lang}")
    assert page.status_code == 200
    assert ("审核队列" in page.text) is (lang == "zh")
    assert "Review queue" in page.text  # English beside the Chinese, or alone
    assert page.cookies.get("lang") == lang


def test_the_language_choice_sticks_in_a_cookie(app):
    _, _, client, _ = app
    client.get("/?lang=en")
    assert "审核队列" not in client.get("/ui/cameras").text
    client.get("/?lang=zh")
    assert "审核队列" in client.get("/ui/cameras").text


def test_the_case_page_and_a_missing_one(app):
    _, _, client, cid = app
    page = client.get(f"/ui/cases/{cid}")
    assert page.status_code == 200
    assert 'data-action="dispatch"' in page.text and 'data-action="confirm"' not in page.text
    assert "/evidence/cam-1/e1.jpg" in page.text and "/evidence/cam-1/e1.clean.jpg" in page.text
    assert client.get("/ui/cases/nope").status_code == 404


def test_queue_stats_for_the_new_work_banner(app):
    _, _, client, _ = app
    assert client.get("/ui/queue/stats").json() == {"review": 2, "pending_events": 0}


def test_the_dashboards_quick_analytics_agree_with_the_full_ones(app):
    _, store, _, _ = app
    assert analytics(store.summaries()) == analytics(store.all_cases())


@pytest.mark.parametrize("kind, values", [
    ("status", [s.value for s in Status]),
    ("action", [a.value for a in Action]),
    ("reason", [r.value for r in RejectReason]),
], ids=["case states", "actions", "rejection reasons"])  # fmt: skip
def test_every_state_action_and_reason_has_both_labels(kind, values):
    for value in values:
        zh, en = LABELS[kind][value]
        assert zh != en and en
    assert text("status", "rejected", "en") == "Rejected (false positive)"
    assert text("type", "crowding") == "人员聚集 Crowding"
    assert text("type", "unheard_of", "zh") == "unheard_of"


def test_charts_escape_their_labels():
    svg = ui_charts.share_bars([ui_charts.Bar("<script>x</script>", 0.5, "1/2")])
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert str(ui_charts.columns([])).startswith("<svg")
