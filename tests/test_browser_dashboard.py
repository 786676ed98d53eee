"""The dashboard in Chromium: the secretariat opens it, picks a policy, sees the map of Japan,
clicks 北海道 and sees its municipalities' adoption. A screenshot of the dashboard is saved
to test-artifacts/dashboard.png and its path recorded in the report."""

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from progress import actions
from progress.models import Adoption, AdoptionStatus
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def test_dashboard_map_and_a_prefectures_municipalities(
    page: Page, live_server, demo_password, consented_policy, user, record_property, pytestconfig
):
    # Two consented policies; 札幌市 uses the first. The live server reads committed data,
    # and the dashboards' figures are rebuilt as each change commits.
    first = consented_policy("soumu")
    second = consented_policy("mhlw")
    for policy in (first, second):
        actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    sapporo = Adoption.objects.get(policy=first, organization__code="011002")
    actions.change_adoption(sapporo, user("sapporo"), status=AdoptionStatus.IN_USE)
    hakodate = Adoption.objects.get(policy=first, organization__code="012025")
    actions.change_adoption(hakodate, user("soumu"), status=AdoptionStatus.MIGRATING)

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, live_server, "secretariat", demo_password)
    expect(page.get_by_role("heading", name="段階ごとの件数")).to_be_visible()

    # Pick the policy 札幌市 uses.
    page.get_by_label("方針", exact=True).select_option(str(first.pk))
    page.get_by_role("button", name="表示する").click()
    expect(page).to_have_url(f"{live_server.url}/?policy={first.pk}&ministry=&fiscal_year=")
    jpmap = page.locator("svg.jpmap")
    expect(jpmap).to_be_visible()
    expect(page.locator("#dash-map-caption")).to_contain_text("都道府県別の利用率")
    hokkaido = jpmap.locator('a[aria-label^="北海道："]')
    expect(hokkaido).to_have_attribute("aria-label", "北海道：0.6%")  # 1 of 180 in use

    # pytest-playwright wipes its own output folder; keep the screenshot beside it.
    shot = Path(pytestconfig.rootpath) / "test-artifacts" / "dashboard.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shot), full_page=True)
    record_property("screenshot", str(shot))
    print(f"dashboard screenshot: {shot}")

    hokkaido.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("北海道の導入状況")
    table = page.locator("table.dash-municipalities")
    expect(table.locator("tbody tr")).to_have_count(180)
    expect(table.locator("tr", has_text="札幌市")).to_contain_text("利用中")
    expect(table.locator("tr", has_text="函館市")).to_contain_text("移行中")
    expect(table.locator("tr", has_text="旭川市")).to_contain_text("予定なし")
