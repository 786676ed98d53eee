"""Pages of stage 3: drafting the 共通化推進方針 and the associations' consent."""

from django.urls import path

from policies import views

app_name = "policies"

urlpatterns = [
    path("policies/", views.policy_list, name="list"),
    path("policies/new/", views.policy_create, name="create"),
    path("policies/<int:pk>/", views.policy_detail, name="detail"),
    path("policies/<int:pk>/transition/", views.policy_transition, name="transition"),
    path("policies/<int:pk>/versions/new/", views.version_new, name="version-new"),
    path("policies/<int:pk>/versions/<int:number>/", views.version_detail, name="version"),
    path("policies/<int:pk>/versions/<int:number>/edit/", views.version_edit, name="version-edit"),
    path("policies/<int:pk>/versions/<int:number>/submit/", views.version_submit, name="version-submit"),
    path("policies/<int:pk>/versions/<int:number>/diff/", views.version_diff, name="version-diff"),
    path("policies/<int:pk>/versions/<int:number>/pdf/", views.version_pdf, name="version-pdf"),
    path("policies/<int:pk>/versions/<int:number>/comments/", views.version_comment, name="version-comment"),
    path("policies/<int:pk>/rounds/new/", views.round_new, name="round-new"),
    path("consent/", views.consent_status, name="consent-status"),
    path("consent/rounds/<int:pk>/", views.round_detail, name="round-detail"),
    path("consent/rounds/<int:pk>/close/", views.round_close, name="round-close"),
    path("consent/rounds/<int:pk>/ballot/", views.ballot, name="ballot"),
]
