"""Stage 1–2 in Chromium: the secretariat proposes, assesses, selects and asks for a study;
the ministry officer writes and submits it; the secretariat accepts it."""

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from council import calendar
from tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]

TITLE = "学校給食費の公会計化（ブラウザ試験）"


def test_the_whole_selection_and_study_stage(page: Page, live_server, demo_password):
    sign_in(page, live_server, "secretariat", demo_password)

    # Propose.
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="対象候補").click()
    page.get_by_role("link", name="対象候補を登録").click()
    page.get_by_label("件名").fill(TITLE)
    page.get_by_label("概要").fill("学校給食費の徴収・管理を公会計化し、共通のシステムで処理する。")
    page.get_by_label("制度所管府省庁").select_option(label="総務省")
    page.get_by_label("住民基本台帳（総務省）").check()
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.locator(".badge").first).to_have_text("提案")

    # Assess against the three criteria.
    page.get_by_role("link", name="評価する").first.click()
    for criterion, score in (("① 利用者起点", "5（高い）"), ("② 効果の見込み", "4"), ("③ 実現可能性", "4")):
        page.get_by_role("group", name=criterion).get_by_label(score, exact=True).check()
    page.get_by_label("評価の理由").fill("給食費の徴収事務は全国で共通しており、共通化の効果が大きい。")
    page.get_by_role("button", name="評価を登録する").click()
    expect(page.get_by_text("給食費の徴収事務は全国で共通しており")).to_be_visible()

    # Review, then select with a track.
    page.get_by_role("button", name="審議を開始する").click()
    expect(page.locator(".badge").first).to_have_text("審議中")
    page.get_by_label("区分").select_option(value="commonization")
    page.get_by_label("コメント（決定の場合は決定理由）").fill("3つの基準を満たす。")
    page.get_by_role("button", name="選定する").click()
    expect(page.locator(".badge").first).to_have_text("選定")

    # Ask the owning ministry for a feasibility study.
    page.get_by_role("link", name="実現可能性調査を依頼").first.click()
    due = calendar.next_business_day(calendar.today() + timedelta(days=30))
    page.get_by_label("提出期限").fill(due.isoformat())
    page.get_by_role("button", name="依頼する").click()
    expect(page.locator("ul.messages")).to_contain_text("依頼")
    sign_out(page)

    # The ministry officer fills in and submits the study.
    sign_in(page, live_server, "soumu", demo_password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="実現可能性調査").click()
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("link", name="調査結果を記入する").click()
    page.get_by_label("結論").select_option(value="feasible")
    page.get_by_label("調査結果").fill("全団体で同一の業務フローに整理できる。")
    page.get_by_label("期待される効果").fill("徴収事務の負担軽減。")
    page.get_by_label("影響を受ける地方公共団体数").fill("1741")
    page.get_by_label("初期費用（円）").fill("800000000")
    page.get_by_label("年間運用費用（円）").fill("150000000")
    page.get_by_role("button", name="提出", exact=True).click()
    expect(page.locator(".badge").first).to_have_text("提出済み")
    sign_out(page)

    # The secretariat accepts it.
    sign_in(page, live_server, "secretariat", demo_password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="実現可能性調査").click()
    page.get_by_role("link", name=TITLE).click()
    page.get_by_role("button", name="受理する").click()
    expect(page.locator(".badge").first).to_have_text("受理")
    expect(page.get_by_text("実現可能", exact=True).first).to_be_visible()
