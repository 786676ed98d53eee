"""An API client gets JSON errors, also where no route matched (found by API fuzzing: a
negative id in a nested route gave the HTML 404 page meant for people)."""

import pytest
from django.test import RequestFactory

from council import errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/meetings/-1934/attendees/43/", "/api/v1/no-such-resource/", "/api/nothing"])
def test_an_unmatched_api_path_is_a_json_404(api, path):
    response = api("secretariat").get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "見つかりませんでした。"}


def test_the_json_404_speaks_english_when_asked(api):
    response = api("secretariat").get("/api/v1/meetings/-1/attendees/2/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.json() == {"detail": "Not found."}


def test_a_page_404_stays_the_html_page_for_people(client, user):
    client.force_login(user("secretariat"))
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "ページが見つかりません" in response.content.decode()


def test_an_api_server_error_is_json_and_a_page_server_error_is_html():
    factory = RequestFactory()
    api_response = errors.server_error(factory.get("/api/v1/policies/"))
    assert api_response.status_code == 500
    assert api_response["Content-Type"] == "application/json"
    page_response = errors.server_error(factory.get("/policies/"))
    assert page_response.status_code == 500
    assert page_response["Content-Type"].startswith("text/html")
