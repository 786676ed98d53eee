"""A meeting's PDFs: the pack (agenda and each item's documents) and the minutes, rendered
by the Celery task (eager in tests), once per content, with their access rules on the
pages and the API."""

import io

import pytest
from django.urls import reverse
from pypdf import PdfReader

from council.meetings import actions
from council.meetings import pdf as meeting_pdf
from council.meetings.models import MeetingPdf
from tests.test_meetings_support import (
    ROLES,
    candidate,
    get_user,
    held,
    item_for,
    open_round,
    published,
    scheduled,
    vote,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def render(meeting, kind="pack", language="ja", by="secretariat", capture=None) -> MeetingPdf:
    with capture(execute=True):
        row = meeting_pdf.request_pdf(meeting, kind, language, get_user(by))
    row.refresh_from_db()
    return row


def file_text(row: MeetingPdf) -> str:
    with row.file.open("rb") as handle:
        return text_of(handle.read())


def test_the_pack_holds_the_agenda_and_each_items_documents(submitted_policy, django_capture_on_commit_callbacks):
    subject = candidate("公共施設予約システムの共通化")
    round_ = open_round(submitted_policy())
    vote(round_, ("consent", "conditional_consent", "consent"))
    made = scheduled(subject, round_, other="令和9年度の進め方について")
    actions.add_attendee(made, get_user("secretariat"), organization=get_user("chijikai").memberships.get().organization,
                         title="会長", name="知事 花子")
    row = render(made, capture=django_capture_on_commit_callbacks)
    assert row.status == "done" and row.pages >= 3 and row.size > 1000 and not row.error
    text = file_text(row)
    for item in made.agenda_items.all():
        assert item.title in text, item.title
    assert "会議資料" in text and "議事次第" in text and "知事 花子" in text
    assert "概要です。" in text  # the candidate's description
    assert "目的と範囲" in text  # the policy version's body, put to consent
    assert "条件付き同意" in text  # the ballots so far
    assert "令和" in text and "1 / " in text


def test_the_minutes_pdf_shows_decisions_and_only_public_items(django_capture_on_commit_callbacks):
    public = candidate("全国で選定された候補")
    hidden = candidate("審議を続ける候補")
    made = held(public, hidden)
    secretariat = get_user("secretariat")
    actions.record_decision(item_for(made, public), secretariat, outcome="selected", track="commonization", text="原案のとおり選定。")
    actions.record_decision(item_for(made, hidden), secretariat, outcome="deferred", text="継続審議とする。")
    actions.save_minutes(made, secretariat, "## 議事\n活発な議論があった。")
    actions.move_meeting(made, secretariat, "minutes_published")
    made.refresh_from_db()
    text = file_text(render(made, "minutes", capture=django_capture_on_commit_callbacks))
    assert "議事録" in text and "活発な議論があった。" in text
    assert "全国で選定された候補" in text and "原案のとおり選定。" in text
    # A candidate still under review is seen by council members only: not in a PDF for everyone.
    assert "審議を続ける候補" not in text and "継続審議とする。" not in text


def test_the_pdf_follows_the_requested_language(django_capture_on_commit_callbacks):
    made = scheduled(other="Opening")
    ja = render(made, capture=django_capture_on_commit_callbacks)
    en = render(made, language="en", capture=django_capture_on_commit_callbacks)
    assert ja.pk != en.pk and ja.content_hash != en.content_hash and en.language == "en"
    assert "令和" in file_text(ja)
    english = file_text(en)
    assert "令和" not in english and str(made.date.year) in english


def test_one_pdf_per_content(django_capture_on_commit_callbacks):
    made = scheduled()
    first = render(made, capture=django_capture_on_commit_callbacks)
    again = render(made, capture=django_capture_on_commit_callbacks)
    assert again.pk == first.pk and MeetingPdf.objects.count() == 1
    assert meeting_pdf.run(first.pk) is False  # already rendered: claimed by nobody
    actions.add_agenda_item(made, get_user("secretariat"), kind="other", title="追加の議題")
    assert meeting_pdf.current_pdf(made, "pack", "ja") is None  # the old file is not the current content
    changed = render(made, capture=django_capture_on_commit_callbacks)
    assert changed.pk != first.pk and "追加の議題" in file_text(changed)
    assert meeting_pdf.current_pdf(made, "pack", "ja") == changed


def test_a_render_is_claimed_once(django_capture_on_commit_callbacks):
    made = scheduled()
    with django_capture_on_commit_callbacks(execute=False) as queued:
        row = meeting_pdf.request_pdf(made, "pack", "ja", get_user("secretariat"))
    assert len(queued) == 1 and row.status == "pending"
    assert meeting_pdf.run(row.pk) is True
    assert meeting_pdf.run(row.pk) is False
    row.refresh_from_db()
    assert row.status == "done"


def test_a_failed_render_is_recorded_and_retried(monkeypatch, django_capture_on_commit_callbacks):
    import council.meetings.pdf

    made = scheduled()

    def broken(template_name, context):
        raise RuntimeError("フォントが見つかりません")

    monkeypatch.setattr(council.meetings.pdf, "render_pdf", broken)
    with pytest.raises(RuntimeError), django_capture_on_commit_callbacks(execute=True):
        meeting_pdf.request_pdf(made, "pack", "ja", get_user("secretariat"))
    row = MeetingPdf.objects.get()
    assert row.status == "failed" and "フォント" in row.error
    monkeypatch.undo()
    again = render(made, capture=django_capture_on_commit_callbacks)
    assert again.pk == row.pk and again.status == "done" and again.error == ""


def test_content_changed_before_rendering_is_not_rendered_under_the_old_key(django_capture_on_commit_callbacks):
    made = scheduled()
    with django_capture_on_commit_callbacks(execute=False):
        row = meeting_pdf.request_pdf(made, "pack", "ja", get_user("secretariat"))
    actions.update_meeting(made, get_user("secretariat"), {"venue": "別の会議室"})
    assert meeting_pdf.run(row.pk) is False
    row.refresh_from_db()
    assert row.status == "failed" and "内容が変更されました" in row.error and not row.file


def test_a_render_abandoned_by_a_dead_worker_is_taken_over(django_capture_on_commit_callbacks):
    from datetime import timedelta

    from django.utils import timezone

    made = scheduled()
    with django_capture_on_commit_callbacks(execute=False):
        row = meeting_pdf.request_pdf(made, "pack", "ja", get_user("secretariat"))
    MeetingPdf.objects.filter(pk=row.pk).update(status="rendering", started_at=timezone.now())
    assert meeting_pdf.run(row.pk) is False  # another worker is on it
    MeetingPdf.objects.filter(pk=row.pk).update(started_at=timezone.now() - meeting_pdf.RENDER_LEASE - timedelta(seconds=1))
    assert meeting_pdf.run(row.pk) is True


# --- Access, on the pages and the API ---------------------------------------------------------------


def test_pdf_access_on_the_api(api):
    made = held()
    base = f"/api/v1/meetings/{made.pk}/pdf/"
    for username in ROLES:
        client = api(username)
        council = username not in ("hokkaido", "sapporo")
        assert client.post(base, {}, format="json").status_code == (202 if council else 403), username
        assert client.post(f"{base}?kind=minutes").status_code == (202 if username == "secretariat" else 403), username
    assert api("secretariat").post(f"{base}?kind=agenda").status_code == 400
    assert api("secretariat").post(f"{base}?lang=fr").status_code == 400


def test_post_then_get_the_pdf_through_the_api(api, django_capture_on_commit_callbacks):
    made = published()
    client = api("sapporo")
    assert client.get(f"/api/v1/meetings/{made.pk}/pdf/?kind=minutes").status_code == 404  # not rendered yet
    with django_capture_on_commit_callbacks(execute=True):  # the task is queued once the request commits
        started = client.post(f"/api/v1/meetings/{made.pk}/pdf/?kind=minutes")
    assert started.status_code == 202 and started.json()["status"] == "rendering"
    again = client.post(f"/api/v1/meetings/{made.pk}/pdf/?kind=minutes")
    assert again.json()["status"] == "ready" and MeetingPdf.objects.count() == 1
    response = client.get(f"/api/v1/meetings/{made.pk}/pdf/?kind=minutes", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "議事録" in text_of(b"".join(response.streaming_content))
    assert client.get(f"/api/v1/meetings/{made.pk}/pdf/?kind=pack").status_code == 403


def test_the_pdf_buttons_on_the_page(client, demo_password, django_capture_on_commit_callbacks):
    made = scheduled(other="資料の議題")
    url = reverse("meetings:pdf", args=[made.pk, "pack"])
    assert client.login(username="chijikai", password=demo_password)
    page = client.get(made.get_absolute_url()).content.decode()
    assert "会議資料のPDFを作成" in page and "議事録のPDFを作成" not in page
    assert client.get(url).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and response["Location"].endswith("#pdf")
    page = client.get(made.get_absolute_url()).content.decode()
    assert url in page and "PDFをダウンロード" in page
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert "資料の議題" in text_of(b"".join(download.streaming_content))
    client.logout()
    assert client.login(username="sapporo", password=demo_password)
    assert client.get(url).status_code == 403 and client.post(url).status_code == 403
    assert client.get(reverse("meetings:pdf", args=[made.pk, "minutes"])).status_code == 403
    assert client.get(reverse("meetings:pdf", args=[made.pk, "other"])).status_code == 404
