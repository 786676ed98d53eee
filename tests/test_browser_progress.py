"""Stage 4 in Chromium: the ministry submits its quarterly report with KPIs, the secretariat
returns it with a comment, the ministry resubmits and the secretariat accepts; then 札幌市's
official updates its own adoption status and cannot touch 旭川市's."""

import re

import pytest
from playwright.sync_api import Page, expect

from progress import actions
from progress.models import Adoption, ProgressReport
from tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def open_report(page: Page) -> None:
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="進捗報告").click()
    page.locator("table.report-table").get_by_role("link").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile("の進捗報告$"))


def test_the_report_workflow_and_a_municipalitys_adoption(page: Page, live_server, demo_password, consented_policy, user):
    # The live server reads committed data: build the consented policy and its schedule first.
    policy = consented_policy("soumu")
    actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    report = ProgressReport.objects.get(policy=policy)

    # The ministry fills in this quarter's report with a milestone and a KPI, and submits it.
    sign_in(page, live_server, "soumu", demo_password)
    open_report(page)
    expect(page.locator(".badge").first).to_have_text("未提出")
    page.get_by_role("link", name="報告を記入する").click()
    page.get_by_label("概要").fill("標準仕様の検討を進め、先行団体を選定した。")
    page.get_by_label("1行目のマイルストーン名").fill("標準仕様の策定")
    page.get_by_label("1行目の状態").select_option("in_progress")
    page.get_by_label("1行目の進捗率（%）").fill("60")
    page.get_by_label("1行目の重み").fill("2")
    page.get_by_label("1行目のKPI名").fill("共通SaaSの利用団体数")
    page.get_by_label("1行目の目標値").fill("300")
    page.get_by_label("1行目の実績値").fill("abc")
    page.get_by_label("1行目の単位").fill("団体")
    page.get_by_role("button", name="提出", exact=True).click()
    # A non-numeric KPI: the error sits next to the field and nothing was saved.
    expect(page.get_by_role("alert")).to_contain_text("KPI 1行目の実績値")
    expect(page.get_by_label("1行目の実績値")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("1行目の実績値").fill("120")
    page.get_by_role("button", name="提出", exact=True).click()
    expect(page.locator("ul.messages")).to_contain_text("進捗報告を提出しました。")
    expect(page.locator(".badge").first).to_have_text("提出済み")
    expect(page.get_by_role("cell", name="40.0%")).to_be_visible()  # 120 of 300
    sign_out(page)

    # The secretariat returns it with a comment.
    sign_in(page, live_server, "secretariat", demo_password)
    open_report(page)
    page.get_by_label("コメント（差し戻す場合は理由）").fill("KPIの実績値の集計方法を追記してください。")
    page.get_by_role("button", name="差し戻す").click()
    expect(page.locator(".badge").first).to_have_text("差戻し")
    sign_out(page)

    # The ministry sees why, adds it and resubmits.
    sign_in(page, live_server, "soumu", demo_password)
    open_report(page)
    expect(page.get_by_text("KPIの実績値の集計方法を追記してください。").first).to_be_visible()
    page.get_by_role("link", name="報告を記入する").click()
    page.get_by_label("概要").fill("標準仕様の検討を進め、先行団体を選定した。実績値は利用申込の件数で集計した。")
    page.get_by_role("button", name="提出", exact=True).click()
    expect(page.locator(".badge").first).to_have_text("提出済み")
    sign_out(page)

    # The secretariat accepts it.
    sign_in(page, live_server, "secretariat", demo_password)
    open_report(page)
    page.get_by_role("button", name="受理する").click()
    expect(page.locator(".badge").first).to_have_text("受理")
    expect(page.locator(".history-table")).to_contain_text("KPIの実績値の集計方法を追記してください。")
    sign_out(page)
    report.refresh_from_db()
    assert report.status == "accepted" and report.kpis[0]["actual"] == 120

    # 札幌市's official updates its own adoption status.
    sign_in(page, live_server, "sapporo", demo_password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="導入状況").click()
    page.get_by_role("link", name="自団体の導入状況").click()
    mine = page.locator("main")
    expect(mine).to_contain_text("札幌市")
    expect(mine).not_to_contain_text("旭川市")
    page.get_by_role("link", name=re.compile("^更新する")).click()
    page.get_by_label("導入状況").select_option(label="導入予定")
    page.get_by_role("button", name="更新する").click()
    expect(page.locator("#id_target_fiscal_year_error")).to_have_text(re.compile("導入予定年度を入力してください"))
    page.get_by_label("導入予定年度").fill("2028")
    page.get_by_role("button", name="更新する").click()
    expect(page.locator("ul.messages")).to_contain_text("札幌市の「共通化推進方針」の導入状況を「導入予定」にしました。")
    expect(page.locator("table").first).to_contain_text("2028年度")
    expect(page.locator("table").first).to_contain_text("導入予定")

    # …and cannot change 旭川市's: no row for it on its page, and its edit page is refused.
    expect(page.locator("main")).not_to_contain_text("旭川市")
    asahikawa = Adoption.objects.get(policy=policy, organization__code="012041")
    response = page.goto(f"{live_server.url}/adoption/{asahikawa.pk}/edit/")
    assert response.status == 403
    asahikawa.refresh_from_db()
    assert asahikawa.status == "not_planned"
    assert Adoption.objects.get(policy=policy, organization__code="011002").target_fiscal_year == 2028
