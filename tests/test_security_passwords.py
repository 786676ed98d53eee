"""The password policy (12 characters or more, not common, not only digits, not like the
user's name or address) holds wherever a password is set: the user's own password change
page and the secretariat's user creation in the admin."""

import pytest
from django.contrib.auth import get_user_model

pytestmark = pytest.mark.django_db

CHANGE = "/accounts/password/"
GOOD = "Kz8#vQ2!mP4x-Tr"
WEAK = [
    ("short-pw1", "このパスワードは短すぎます。最低 12 文字以上必要です。"),
    ("password1234", "このパスワードは一般的すぎます。"),
    ("123456789012345", "このパスワードは数字しか使われていません。"),
    ("sapporo@example", "このパスワードは メールアドレス と似すぎています。"),
]


@pytest.fixture
def signed_in(client, demo_password):
    assert client.login(username="sapporo", password=demo_password)
    return client


def test_the_change_page_is_in_japanese_and_needs_login(client, signed_in):
    page = signed_in.get(CHANGE)
    html = page.content.decode()
    assert page.status_code == 200
    assert "パスワードの変更" in html and "12文字以上" in html
    assert "元のパスワード" in html and "新しいパスワード" in html
    anonymous = client.__class__().get(CHANGE)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("password, message", WEAK)
def test_a_weak_new_password_is_refused_with_the_reason(signed_in, demo_password, password, message):
    response = signed_in.post(CHANGE, {"old_password": demo_password, "new_password1": password, "new_password2": password})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert get_user_model().objects.get(username="sapporo").check_password(demo_password)


def test_a_wrong_old_password_or_a_mismatch_is_refused(signed_in, demo_password):
    wrong_old = signed_in.post(CHANGE, {"old_password": "not-it-at-all", "new_password1": GOOD, "new_password2": GOOD})
    assert "元のパスワードが間違っています" in wrong_old.content.decode()
    mismatch = signed_in.post(CHANGE, {"old_password": demo_password, "new_password1": GOOD, "new_password2": GOOD + "x"})
    assert "確認用パスワードが一致しません" in mismatch.content.decode()
    assert get_user_model().objects.get(username="sapporo").check_password(demo_password)


def test_a_good_password_is_saved_and_the_session_stays(signed_in, client):
    from django.conf import settings

    response = signed_in.post(
        CHANGE, {"old_password": settings.DEMO_PASSWORD, "new_password1": GOOD, "new_password2": GOOD}
    )
    assert response.status_code == 302 and response["Location"] == "/accounts/password/done/"
    assert "パスワードを変更しました" in signed_in.get(response["Location"]).content.decode()
    assert get_user_model().objects.get(username="sapporo").check_password(GOOD)
    assert signed_in.get("/").status_code == 200


@pytest.fixture
def secretariat(client, demo_password):
    assert client.login(username="secretariat", password=demo_password)
    return client


def admin_add(client, username: str, password: str):
    return client.post(
        "/admin/auth/user/add/",
        {
            "username": username, "usable_password": "true", "password1": password, "password2": password, "_save": "1",
            # the memberships inline, left empty
            "memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0",
        },
    )


@pytest.mark.parametrize("password, message", [
    ("short-pw1", "このパスワードは短すぎます。"),
    ("password1234", "このパスワードは一般的すぎます。"),
    ("123456789012345", "このパスワードは数字しか使われていません。"),
    ("tanaka-taro-01", "このパスワードは ユーザー名 と似すぎています。"),
])
def test_the_admin_refuses_a_weak_password_for_a_new_user(secretariat, password, message):
    response = admin_add(secretariat, "tanaka-taro", password)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not get_user_model().objects.filter(username="tanaka-taro").exists()


def test_the_admin_creates_a_user_with_a_good_password(secretariat):
    response = admin_add(secretariat, "tanaka-taro", GOOD)
    assert response.status_code == 302
    assert get_user_model().objects.get(username="tanaka-taro").check_password(GOOD)


def test_the_admin_refuses_a_weak_password_when_resetting_one(secretariat):
    user = get_user_model().objects.get(username="sapporo")
    url = f"/admin/auth/user/{user.pk}/password/"
    response = secretariat.post(url, {"usable_password": "true", "password1": "password1234", "password2": "password1234"})
    assert response.status_code == 200
    assert "このパスワードは一般的すぎます。" in response.content.decode()
    user.refresh_from_db()
    assert not user.check_password("password1234")
