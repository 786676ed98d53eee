"""Pages of candidate selection (stage 1) and the feasibility study (stage 2)."""

from django.urls import path

from candidates import views

app_name = "candidates"

urlpatterns = [
    path("candidates/", views.candidate_list, name="list"),
    path("candidates/new/", views.candidate_create, name="create"),
    path("candidates/weights/", views.weights, name="weights"),
    path("candidates/evidence/<int:pk>/", views.evidence_download, name="evidence-download"),
    path("candidates/<int:pk>/", views.candidate_detail, name="detail"),
    path("candidates/<int:pk>/edit/", views.candidate_edit, name="edit"),
    path("candidates/<int:pk>/assess/", views.candidate_assess, name="assess"),
    path("candidates/<int:pk>/transition/", views.candidate_transition, name="transition"),
    path("candidates/<int:pk>/study/assign/", views.assign_study, name="assign-study"),
    path("studies/", views.study_list, name="study-list"),
    path("studies/attachments/<int:pk>/", views.attachment_download, name="attachment-download"),
    path("studies/<int:pk>/", views.study_detail, name="study-detail"),
    path("studies/<int:pk>/edit/", views.study_edit, name="study-edit"),
    path("studies/<int:pk>/transition/", views.study_transition, name="study-transition"),
]
