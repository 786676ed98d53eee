"""A council meeting in Chromium, the way the secretariat runs one: register it, put a
candidate on the agenda, announce it, hold it, record the selection, publish the minutes;
then the candidate's page names the meeting, and a 札幌市 official reads the minutes."""

import pytest
from playwright.sync_api import Page, expect

from council import calendar
from tests.browser import sign_in, sign_out
from tests.test_meetings_support import candidate

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def test_the_secretariat_runs_a_meeting(page: Page, live_server, demo_password):
    subject = candidate("公金受取口座の登録支援の共通化")

    sign_in(page, live_server, "secretariat", demo_password)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="会議").click()
    page.get_by_role("link", name="会議を登録").click()
    page.get_by_label("開催日").fill(calendar.today().isoformat())
    page.get_by_label("会場").fill("第1特別会議室")
    page.get_by_role("button", name="登録する").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("第1回 国・地方デジタル共通基盤推進連絡協議会")
    expect(page.get_by_text("準備中").first).to_be_visible()

    page.get_by_role("link", name="議題を追加").first.click()
    page.get_by_label("審議の対象").select_option(value=f"candidate:{subject.pk}")
    page.get_by_role("button", name="追加する").click()
    expect(page.get_by_role("heading", name="議題1　対象候補「公金受取口座の登録支援の共通化」の選定について")).to_be_visible()

    page.get_by_role("button", name="開催予定として公開する").click()
    expect(page.get_by_text("開催予定").first).to_be_visible()
    page.get_by_role("button", name="開催済みにする").click()
    page.get_by_role("link", name="決定を記録").click()
    page.get_by_label("選定", exact=True).check()
    page.get_by_label("区分").select_option(value="commonization")
    page.get_by_label("決定内容").fill("原案のとおり選定する。")
    page.get_by_role("button", name="決定を記録する").click()
    expect(page.get_by_text("原案のとおり選定する。")).to_be_visible()

    page.get_by_role("link", name="議事録を記入・編集").click()
    page.get_by_label("議事録").fill("## 議事\n対象候補を選定した。")
    page.get_by_role("button", name="保存する").click()
    page.get_by_role("button", name="議事録を公開する").click()
    expect(page.get_by_text("議事録公開済み").first).to_be_visible()

    page.goto(f"{live_server.url}{subject.get_absolute_url()}")
    expect(page.get_by_role("link", name="第1回連絡協議会")).to_be_visible()
    sign_out(page)

    sign_in(page, live_server, "sapporo", demo_password)
    page.goto(f"{live_server.url}{subject.get_absolute_url()}")
    page.get_by_role("link", name="第1回連絡協議会").click()
    expect(page.get_by_text("対象候補を選定した。")).to_be_visible()
    expect(page.get_by_role("button", name="会議資料のPDFを作成")).to_have_count(0)
    expect(page.get_by_role("button", name="議事録のPDFを作成")).to_be_visible()
