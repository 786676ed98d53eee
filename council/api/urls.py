from django.urls import include, path
from rest_framework.routers import DefaultRouter

from candidates.api import (
    AssessmentViewSet,
    BusinessAreaViewSet,
    CandidateViewSet,
    CriteriaWeightsView,
    FeasibilityStudyViewSet,
)
from council.api.auth import ObtainTokenView
from council.audit.api import AuditEventViewSet
from council.dashboards import api as dashboard_api
from council.meetings.api import AgendaItemViewSet, AttendeeViewSet, MeetingViewSet
from council.trace.api import TraceView
from policies.api import ConsentRoundViewSet, PolicyVersionViewSet, PolicyViewSet
from progress.api import (
    AdoptionViewSet,
    MeasureRequestViewSet,
    ProgressReportViewSet,
    ReportingScheduleViewSet,
    UsageReportViewSet,
)
from tenants.api import OrganizationViewSet

router = DefaultRouter()
router.register("organizations", OrganizationViewSet, basename="organization")
router.register("business-areas", BusinessAreaViewSet, basename="business-area")
router.register("candidates", CandidateViewSet, basename="candidate")
router.register("feasibility-studies", FeasibilityStudyViewSet, basename="feasibility-study")
router.register("policies", PolicyViewSet, basename="policy")
router.register("consent-rounds", ConsentRoundViewSet, basename="consent-round")
router.register("reporting-schedules", ReportingScheduleViewSet, basename="reporting-schedule")
router.register("progress-reports", ProgressReportViewSet, basename="progress-report")
router.register("adoption", AdoptionViewSet, basename="adoption")
router.register("usage-reports", UsageReportViewSet, basename="usage-report")
router.register("measure-requests", MeasureRequestViewSet, basename="measure-request")
router.register("audit-events", AuditEventViewSet, basename="audit-event")
router.register("meetings", MeetingViewSet, basename="meeting")

# Agenda items and attendees live under their meeting: /meetings/{meeting_pk}/agenda-items/{pk}/.
agenda_items = [
    path("", AgendaItemViewSet.as_view({"get": "list", "post": "create"}), name="meeting-agenda-item-list"),
    path(
        "<int:pk>/",
        AgendaItemViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="meeting-agenda-item-detail",
    ),
    path("<int:pk>/decision/", AgendaItemViewSet.as_view({"post": "decision"}), name="meeting-agenda-item-decision"),
]
attendees = [
    path("", AttendeeViewSet.as_view({"get": "list", "post": "create"}), name="meeting-attendee-list"),
    path("<int:pk>/", AttendeeViewSet.as_view({"delete": "destroy"}), name="meeting-attendee-detail"),
]

# Assessments live under their candidate: /candidates/{candidate_pk}/assessments/{pk}/.
assessments = [
    path(
        "",
        AssessmentViewSet.as_view({"get": "list", "post": "create"}),
        name="candidate-assessment-list",
    ),
    path(
        "<int:pk>/",
        AssessmentViewSet.as_view({"get": "retrieve", "put": "update", "patch": "partial_update"}),
        name="candidate-assessment-detail",
    ),
]

# Versions live under their policy and are addressed by number: /policies/{policy_pk}/versions/{n}/.
versions = [
    path("", PolicyVersionViewSet.as_view({"get": "list", "post": "create"}), name="policy-version-list"),
    path(
        "<int:number>/",
        PolicyVersionViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="policy-version-detail",
    ),
    path("<int:number>/submit/", PolicyVersionViewSet.as_view({"post": "submit"}), name="policy-version-submit"),
    path("<int:number>/diff/", PolicyVersionViewSet.as_view({"get": "diff"}), name="policy-version-diff"),
    path("<int:number>/pdf/", PolicyVersionViewSet.as_view({"get": "pdf", "post": "pdf"}), name="policy-version-pdf"),
    path(
        "<int:number>/comments/",
        PolicyVersionViewSet.as_view({"get": "comments", "post": "comments"}),
        name="policy-version-comments",
    ),
]

dashboards = [
    path("summary/", dashboard_api.SummaryView.as_view(), name="dashboard-summary"),
    path("adoption/", dashboard_api.AdoptionView.as_view(), name="dashboard-adoption"),
    path("adoption-trend/", dashboard_api.AdoptionTrendView.as_view(), name="dashboard-adoption-trend"),
    path("costs/", dashboard_api.CostView.as_view(), name="dashboard-costs"),
]

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("dashboards/", include(dashboards)),
    path("criteria-weights/", CriteriaWeightsView.as_view(), name="criteria-weights"),
    path("trace/<slug:kind>/<int:pk>/", TraceView.as_view(), name="api-trace"),
    path("candidates/<int:candidate_pk>/assessments/", include(assessments)),
    path("policies/<int:policy_pk>/versions/", include(versions)),
    path("meetings/<int:meeting_pk>/agenda-items/", include(agenda_items)),
    path("meetings/<int:meeting_pk>/attendees/", include(attendees)),
    path("", include(router.urls)),
]
