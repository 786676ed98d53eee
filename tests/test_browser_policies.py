"""Stage 3 in Chromium: the ministry writes and submits its draft, the secretariat opens a
consent round, the three associations' representatives vote, and the 札幌市 official sees
the outcome on the consent status page."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from policies import actions as policy_actions
from tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]

BODY = "\n\n".join(
    f"## {title}\n{text}"
    for title, text in (
        ("目的と範囲", "給食費の徴収事務を全国で共通化する。"),
        ("対象システムと業務", "学校給食費の公会計システム。"),
        ("スケジュールとマイルストーン", "令和9年度に標準仕様を確定する。"),
        ("移行の考え方", "各団体のシステム更新時期に合わせて移行する。"),
        ("KPI", "利用団体数。"),
    )
)


def test_draft_consent_and_the_consent_status_page(page: Page, live_server, demo_password, accepted_candidate):
    candidate = accepted_candidate("soumu", title="学校給食費の公会計化")
    policy = policy_actions.create_policy(candidate, get_user_model().objects.get(username="soumu"), title="学校給食費の公会計化に関する共通化推進方針")

    # The ministry fills in the draft and submits it.
    sign_in(page, live_server, "soumu", demo_password)
    page.goto(f"{live_server.url}{policy.get_absolute_url()}")
    page.get_by_role("link", name="第1版の下書きを編集").click()
    page.get_by_label("本文").fill(BODY)
    page.get_by_label("共通SaaS・利用料の負担者").select_option(value="local")
    page.get_by_label("共通SaaS・標準仕様の作成の負担者").select_option(value="state")
    page.get_by_label("1行目のマイルストーン").fill("標準仕様の確定")
    page.get_by_label("1行目の目標日").fill("2028-03-31")
    page.get_by_role("button", name="提出", exact=True).click()
    expect(page.get_by_text("提出済み").first).to_be_visible()
    sign_out(page)

    # The secretariat opens a consent round on it.
    sign_in(page, live_server, "secretariat", demo_password)
    page.goto(f"{live_server.url}{policy.get_absolute_url()}")
    page.get_by_role("link", name="同意手続を開始").click()
    page.get_by_role("button", name="同意手続を開始する").click()
    expect(page.get_by_text("受付中").first).to_be_visible()
    round_url = page.url
    sign_out(page)

    # Each association's representative votes.
    for username, choice, comment in (
        ("chijikai", "同意", ""),
        ("shichokai", "条件付き同意", "移行時期への配慮を求める。"),
        ("chosonkai", "同意", ""),
    ):
        sign_in(page, live_server, username, demo_password)
        page.goto(round_url)
        page.get_by_role("link", name="投票する").click()
        page.get_by_label(choice, exact=True).check()
        if comment:
            page.get_by_label("条件・理由").fill(comment)
        page.get_by_role("button", name="意思表示を登録する").click()
        expect(page.get_by_text(choice, exact=True).first).to_be_visible()
        sign_out(page)

    # The secretariat closes the round: the rule says consented.
    sign_in(page, live_server, "secretariat", demo_password)
    page.goto(round_url)
    page.get_by_role("button", name="締め切る").click()
    expect(page.get_by_text("同意", exact=True).first).to_be_visible()
    sign_out(page)

    # The 札幌市 official sees the outcome and the conditions on the consent status page.
    sign_in(page, live_server, "sapporo", demo_password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="同意状況").click()
    main = page.locator("main")
    expect(main.get_by_text("学校給食費の公会計化に関する共通化推進方針").first).to_be_visible()
    expect(main).to_contain_text("移行時期への配慮を求める。")
    expect(main).to_contain_text("全国町村会")
