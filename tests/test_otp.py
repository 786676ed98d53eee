"""Optional two-factor authentication (TOTP) for secretariat staff and association
representatives: enrolment, the code step after the password, enforcement by role."""

import base64
import re
import time

import pytest
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

SETUP = "/accounts/two-factor/"
VERIFY = "/accounts/two-factor/verify/"


def code_for(device: TOTPDevice, *, later: bool = True) -> str:
    """The device's current code; `later` forgets the last code used, as if a minute passed
    (a code is accepted once only)."""
    if later:
        TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return f"{totp.token():0{device.digits}d}"


def sign_in(username: str, password: str, next_url: str = "") -> tuple[Client, object]:
    client = Client()
    data = {"username": username, "password": password}
    if next_url:
        data["next"] = next_url
    return client, client.post("/accounts/login/", data)


@pytest.fixture
def enrolled(demo_password):
    """A user with a confirmed device, enrolled through the pages."""

    def make(username: str = "secretariat") -> TOTPDevice:
        client, _ = sign_in(username, demo_password)
        client.get(SETUP)
        device = TOTPDevice.objects.get(user__username=username)
        response = client.post(SETUP, {"code": code_for(device)})
        assert response.status_code == 302
        device.refresh_from_db()
        assert device.confirmed
        return device

    return make


# --- Enrolment ------------------------------------------------------------------------------------


def test_the_setup_page_shows_a_qr_code_and_the_secret(demo_password):
    client, _ = sign_in("secretariat", demo_password)
    response = client.get(SETUP)
    assert response.status_code == 200
    html = response.content.decode()
    device = TOTPDevice.objects.get(user__username="secretariat", confirmed=False)
    secret = base64.b32encode(device.bin_key).decode()
    shown = re.search(r'id="otp-secret">([A-Z2-7 ]+)<', html).group(1)
    assert shown.replace(" ", "") == secret
    qr = re.search(r'<img src="data:image/svg\+xml;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(qr).lstrip().startswith((b"<?xml", b"<svg"))
    # Reloading the page keeps the same secret (the app may already have scanned it).
    client.get(SETUP)
    assert TOTPDevice.objects.filter(user__username="secretariat").count() == 1


def test_a_wrong_code_does_not_confirm_the_device(demo_password):
    client, _ = sign_in("chijikai", demo_password)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user__username="chijikai")
    wrong = f"{(int(code_for(device)) + 1) % 1_000_000:06d}"
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 400
    assert "確認コードが正しくありません" in response.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed
    for bad, message in (("12ab56", "確認コードは6桁の数字です"), ("", "確認コードを入力してください")):
        response = client.post(SETUP, {"code": bad})
        assert response.status_code == 400 and message in response.content.decode()


def test_the_right_code_confirms_it_and_the_session_is_verified(demo_password):
    client, _ = sign_in("secretariat", demo_password)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user__username="secretariat")
    response = client.post(SETUP, {"code": code_for(device)}, follow=True)
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    assert "二要素認証を設定しました" in response.content.decode()
    assert client.get("/").status_code == 200  # this session gave a code: no second prompt


# --- Logging in -----------------------------------------------------------------------------------


def test_after_the_password_an_enrolled_user_must_give_the_code(enrolled, demo_password):
    device = enrolled("secretariat")
    client, response = sign_in("secretariat", demo_password, next_url="/policies/")
    assert response.status_code == 302
    # Every page leads to the code page, which brings the user back afterwards.
    for path in ("/policies/", "/", "/candidates/", "/admin/"):
        page = client.get(path)
        assert page.status_code == 302 and page["Location"].startswith(VERIFY), path
    assert client.get("/api/v1/candidates/").status_code == 403
    form = client.get(client.get("/policies/")["Location"])
    assert form.status_code == 200 and "確認コードの入力" in form.content.decode()
    done = client.post(VERIFY, {"code": code_for(device), "next": "/policies/"})
    assert done.status_code == 302 and done["Location"] == "/policies/"
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/candidates/").status_code == 200


def test_a_wrong_code_is_refused_and_a_code_is_good_once(enrolled, demo_password):
    device = enrolled("shichokai")
    client, _ = sign_in("shichokai", demo_password)
    right = code_for(device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 400 and "確認コードが正しくありません" in response.content.decode()
    assert client.get("/").status_code == 302
    # The wrong code is a failed login in the audit trail, without the code.
    from council.audit.models import AuditEvent

    failed = AuditEvent.objects.filter(action="login_failed").order_by("-sequence").first()
    assert failed.actor_repr == "shichokai" and failed.details["username"] == "shichokai"
    assert wrong not in str(failed.details) + str(failed.changes)
    # After a failure django-otp makes the next try wait a moment; then the right code works.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post(VERIFY, {"code": right}).status_code == 302
    assert client.get("/").status_code == 200
    # The same code cannot be used again by someone who watched it.
    other, _ = sign_in("shichokai", demo_password)
    response = other.post(VERIFY, {"code": right})
    assert response.status_code == 400
    assert other.get("/").status_code == 302


def test_repeated_wrong_codes_are_slowed_down(enrolled, demo_password):
    device = enrolled("secretariat")
    client, _ = sign_in("secretariat", demo_password)
    client.post(VERIFY, {"code": "000000" if code_for(device) != "000000" else "111111"})
    response = client.post(VERIFY, {"code": code_for(device)})
    assert response.status_code == 400
    assert "しばらく受け付けません" in response.content.decode()


def test_logout_works_before_the_code(enrolled, demo_password):
    enrolled("secretariat")
    client, _ = sign_in("secretariat", demo_password)
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/").status_code == 302 and client.get("/")["Location"].startswith("/accounts/login/")


def test_users_without_a_device_sign_in_with_the_password_only(demo_password):
    for username in ("secretariat", "sapporo", "soumu"):
        client, _ = sign_in(username, demo_password)
        assert client.get("/").status_code == 200, username


def test_an_enrolled_user_can_turn_it_off_with_a_code(enrolled, demo_password):
    device = enrolled("chijikai")
    client, _ = sign_in("chijikai", demo_password)
    client.post(VERIFY, {"code": code_for(device)})
    page = client.get(SETUP)
    assert "設定済み" in page.content.decode()
    assert client.post(SETUP, {"code": "999999" if code_for(device) != "999999" else "888888"}).status_code == 400
    assert TOTPDevice.objects.filter(user__username="chijikai").exists()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    assert client.post(SETUP, {"code": code_for(device)}).status_code == 302
    assert not TOTPDevice.objects.filter(user__username="chijikai").exists()


# --- Who sees it ----------------------------------------------------------------------------------


@pytest.mark.parametrize("username, offered", [
    ("secretariat", True), ("chijikai", True), ("chosonkai", True),
    ("soumu", False), ("mhlw", False), ("sapporo", False), ("hokkaido", False),
])
def test_the_setup_is_offered_to_secretariat_and_associations_only(demo_password, username, offered):
    client, _ = sign_in(username, demo_password)
    home = client.get("/").content.decode()
    assert (f'href="{SETUP}"' in home) is offered
    assert client.get(SETUP).status_code == (200 if offered else 404)


@pytest.fixture
def required_for_secretariat(settings):
    settings.OTP_REQUIRED_FOR = ["secretariat_staff"]


@pytest.mark.usefixtures("required_for_secretariat")
def test_a_required_role_must_enrol_before_anything_else(demo_password):
    client, _ = sign_in("secretariat", demo_password)
    for path in ("/", "/candidates/", "/admin/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith(SETUP), path
    assert client.get("/api/v1/candidates/").status_code == 403
    page = client.get(SETUP)
    assert page.status_code == 200 and "設定が必要です" in page.content.decode()
    device = TOTPDevice.objects.get(user__username="secretariat")
    assert client.post(SETUP, {"code": code_for(device)}).status_code == 302
    assert client.get("/").status_code == 200
    # Once enrolled it cannot be turned off by the user.
    assert "解除できません" in client.get(SETUP).content.decode()
    client.post(SETUP, {"code": code_for(device)})
    assert TOTPDevice.objects.filter(user__username="secretariat", confirmed=True).exists()


@pytest.mark.usefixtures("required_for_secretariat")
@pytest.mark.parametrize("username", ["sapporo", "soumu", "chijikai"])
def test_other_roles_do_not_see_the_requirement(demo_password, username):
    client, _ = sign_in(username, demo_password)
    response = client.get("/")
    assert response.status_code == 200
    assert "設定が必要です" not in response.content.decode()


# --- The API ------------------------------------------------------------------------------------


def test_api_tokens_are_not_asked_for_a_code(enrolled, demo_password, api):
    # Requests with a token carry no session to verify: the token is the credential.
    enrolled("secretariat")
    assert api("secretariat").get("/api/v1/candidates/").status_code == 200


def test_an_enrolled_user_needs_the_code_to_get_a_token(enrolled, demo_password):
    device = enrolled("secretariat")
    client = APIClient()
    body = {"username": "secretariat", "password": demo_password}
    missing = client.post("/api/v1/auth/token/", body, format="json")
    assert missing.status_code == 400 and "otp_token" in missing.json()
    wrong = client.post("/api/v1/auth/token/", {**body, "otp_token": "12345"}, format="json")
    assert wrong.status_code == 400 and "otp_token" in wrong.json()
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    right = client.post("/api/v1/auth/token/", {**body, "otp_token": code_for(device)}, format="json")
    assert right.status_code == 200 and right.json()["token"]
    # Users without a device are asked for nothing more.
    plain = client.post("/api/v1/auth/token/", {"username": "soumu", "password": demo_password}, format="json")
    assert plain.status_code == 200
