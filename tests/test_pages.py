import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, demo_password):
    def login(username: str):
        assert client.login(username=username, password=demo_password)
        return client

    return login


def test_the_home_page_needs_a_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/"


def test_the_login_page_is_japanese(client):
    response = client.get("/accounts/login/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="ja">' in html
    assert "ログイン" in html
    assert 'autocomplete="current-password"' in html


def test_a_wrong_password_shows_a_japanese_error_and_no_session(client):
    response = client.post("/accounts/login/", {"username": "sapporo", "password": "wrong"})
    assert response.status_code == 200
    assert "正しいユーザー名とパスワードを入力してください" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_logging_in_leads_home(client, demo_password):
    response = client.post("/accounts/login/", {"username": "sapporo", "password": demo_password}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    html = response.content.decode()
    assert "札幌市" in html
    assert "地方公共団体職員" in html


def test_home_is_the_dashboard(signed_in):
    response = signed_in("secretariat").get("/")
    assert response.templates[0].name == "dashboards/dashboard.html"
    assert {s["key"] for s in response.context["stages"]} == {
        "candidates", "feasibility_studies", "policies", "consent_outcomes", "progress_reports", "measure_requests"
    }


def test_switching_to_english(signed_in):
    client = signed_in("soumu")
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Home" in html
    assert "Log out" in html
    assert "ホーム" not in html


def test_logout_is_a_post(signed_in):
    client = signed_in("soumu")
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("username, status", [("secretariat", 200), ("soumu", 302), ("sapporo", 302)])
def test_only_staff_reach_the_admin(signed_in, username, status):
    assert signed_in(username).get("/admin/").status_code == status


def test_the_admin_speaks_japanese_and_lists_organizations(signed_in):
    client = signed_in("secretariat")
    response = client.get("/admin/tenants/organization/?q=札幌")
    html = response.content.decode()
    assert response.status_code == 200
    assert "団体" in html and "札幌市" in html


def test_the_admin_refuses_a_mistyped_code_and_saves_nothing(signed_in, org):
    from tenants.models import Organization

    client = signed_in("secretariat")
    before = Organization.objects.count()
    response = client.post(
        "/admin/tenants/organization/add/",
        {
            "kind": "municipality",
            "code": "011003",
            "name": "試験市",
            "name_kana": "",
            "name_en": "",
            "parent": org("010006").pk,
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "検査数字が正しくありません" in response.content.decode()
    assert Organization.objects.count() == before


def test_the_admin_refuses_a_role_that_does_not_fit(signed_in, user, org):
    from tenants.models import Membership

    client = signed_in("secretariat")
    response = client.post(
        "/admin/tenants/membership/add/",
        {"user": user("soumu").pk, "organization": org("011002").pk, "role": "ministry_officer"},
    )
    assert response.status_code == 200
    assert "役割「府省庁担当者」で所属できません" in response.content.decode()
    assert not Membership.objects.filter(user__username="soumu", organization__code="011002").exists()


def test_an_unknown_page_is_a_japanese_404(signed_in, settings):
    response = signed_in("soumu").get("/no-such-page/")
    assert response.status_code == 404
    assert "ページが見つかりません" in response.content.decode()


def test_the_secretariat_can_open_every_admin_list(signed_in):
    from django.contrib import admin

    client = signed_in("secretariat")
    for model in admin.site._registry:
        if model._meta.app_label in ("auth", "authtoken", "guardian"):
            continue
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert client.get(url).status_code == 200, url


def test_workflow_objects_are_read_only_in_the_admin(signed_in):
    client = signed_in("secretariat")
    assert client.get("/admin/candidates/candidate/add/").status_code == 403
    assert client.get("/admin/policies/ballot/add/").status_code == 403
