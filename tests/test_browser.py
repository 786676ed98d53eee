"""The real pages in Debian's Chromium, clicked the way a secretariat member would."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def test_the_secretariat_logs_in_switches_to_english_and_logs_out(page: Page, live_server, demo_password):
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")

    page.get_by_label("ユーザー名").fill("secretariat")
    page.get_by_label("パスワード").fill(demo_password)
    page.get_by_role("button", name="ログイン").click()

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("ホーム")
    expect(page.get_by_text("事務局職員")).to_be_visible()
    expect(page.get_by_role("link", name="管理画面")).to_be_visible()

    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Home")
    expect(page.get_by_text("Secretariat staff")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_a_wrong_password_shows_the_error_in_the_page(page: Page, live_server):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("ユーザー名").fill("sapporo")
    page.get_by_label("パスワード").fill("not-the-password")
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("正しいユーザー名とパスワードを入力してください")


def test_the_login_form_is_usable_by_keyboard(page: Page, live_server, demo_password):
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("ユーザー名")).to_be_focused()  # autofocus
    page.keyboard.type("sapporo")
    page.keyboard.press("Tab")
    page.keyboard.type(demo_password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("ホーム")
    expect(page.get_by_text("札幌市").first).to_be_visible()
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="本文へ移動")).to_be_focused()
