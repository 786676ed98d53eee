"""Under the Content-Security-Policy, in Chromium: the pages raise no policy violation, the
bars get their widths from static/js/bars.js, Swagger UI starts, and a user with two-factor
authentication signs in with a code."""

import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from progress import actions as progress_actions
from progress.models import ProgressReport
from tests.api_progress_helpers import fill
from tests.test_csp import page_paths
from tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("world")]


def watch_violations(page: Page) -> list[str]:
    """Console errors and `securitypolicyviolation` events the page reports."""
    found: list[str] = []
    page.on(
        "console",
        lambda m: found.append(f"{page.url}: {m.text}") if m.type == "error" and "Content Security Policy" in m.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )
    return found


def test_the_pages_run_under_the_policy(page: Page, live_server, demo_password, consented_policy, user):
    policy = consented_policy("soumu")
    schedule = progress_actions.set_schedule(policy, user("secretariat"), frequency="quarterly", due_days_after_period=30)
    report = fill(ProgressReport.objects.get(schedule=schedule))  # milestones: progress bars
    violations = watch_violations(page)

    # Every page without parameters (new ones included), some detail pages and the admin's.
    client = Client()
    client.force_login(user("secretariat"))
    candidates = [*page_paths(), f"/reports/{report.pk}/", f"/policies/{policy.pk}/",
                  f"/candidates/{policy.candidate_id}/", "/admin/auth/user/", f"/admin/auth/user/{user('soumu').pk}/change/"]
    pages = []
    for path in candidates:
        answer = client.get(path)
        if answer.status_code == 200 and answer["Content-Type"].startswith("text/html") and "/api/" not in path:
            pages.append(path)
    assert len(pages) >= 20

    sign_in(page, live_server, "secretariat", demo_password)
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        assert "default-src 'self'" in response.headers["content-security-policy"]
    assert violations == [], "\n".join(violations)

    # A bar's width comes from its data attribute through the script file.
    page.goto(f"{live_server.url}/candidates/")
    meter = page.locator(".score-meter__fill[data-bar-width]").first
    wanted = float(meter.get_attribute("data-bar-width"))
    assert meter.evaluate("e => e.style.width") == f"{wanted:g}%"
    page.goto(f"{live_server.url}/reports/{report.pk}/")
    bar = page.locator(".percent-bar__fill[data-bar-width]").first
    assert bar.evaluate("e => e.style.width").endswith("%")
    assert violations == [], "\n".join(violations)


def test_swagger_ui_starts_without_inline_script(page: Page, live_server, demo_password):
    violations = watch_violations(page)
    sign_in(page, live_server, "soumu", demo_password)
    page.goto(f"{live_server.url}/api/docs/")
    # The schema of the whole API is generated on request: give it time.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("API", timeout=60_000)
    expect(page.locator(".opblock").first).to_be_visible()
    assert violations == [], "\n".join(violations)


def current_code(device: TOTPDevice) -> str:
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def test_two_factor_enrolment_and_sign_in(page: Page, live_server, demo_password):
    violations = watch_violations(page)
    sign_in(page, live_server, "chijikai", demo_password)
    page.get_by_role("link", name="二要素認証").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("二要素認証の設定")
    expect(page.get_by_role("img", name="認証アプリ登録用のQRコード")).to_be_visible()
    device = TOTPDevice.objects.get(user__username="chijikai")
    page.get_by_label("確認コード（6桁）").fill(current_code(device))
    page.get_by_role("button", name="確認して設定を完了").click()
    expect(page.locator("ul.messages")).to_contain_text("二要素認証を設定しました")
    page.get_by_role("button", name="ログアウト").click()

    # Next time: the password, then the code page before any other page.
    page.goto(f"{live_server.url}/policies/")
    page.get_by_label("ユーザー名").fill("chijikai")
    page.get_by_label("パスワード").fill(demo_password)
    page.get_by_role("button", name="ログイン").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("確認コードの入力")
    page.get_by_label("確認コード（6桁）").fill("000000" if current_code(device) != "000000" else "111111")
    page.get_by_role("button", name="確認してログイン").click()
    expect(page.get_by_role("alert")).to_contain_text("確認コード")
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None, last_t=-1)
    page.get_by_label("確認コード（6桁）").fill(current_code(device))
    page.get_by_role("button", name="確認してログイン").click()
    expect(page).to_have_url(re.compile(r"/policies/$"))
    assert violations == [], "\n".join(violations)
