"""Pages of stage 4: progress reports and schedules, KPI trends, adoption, usage reports and
measure requests."""

from django.urls import path

from progress import document_views, views

app_name = "progress"

urlpatterns = [
    path("reports/", views.report_list, name="report-list"),
    path("reports/attachments/<int:pk>/", views.report_attachment, name="report-attachment"),
    path("reports/<int:pk>/", views.report_detail, name="report-detail"),
    path("reports/<int:pk>/edit/", views.report_edit, name="report-edit"),
    path("reports/<int:pk>/transition/", views.report_transition, name="report-transition"),
    path("reports/<int:pk>/pdf/", document_views.report_pdf, name="report-pdf"),
    path("reports/packs/", document_views.packs, name="packs"),
    path("reports/packs/<int:pk>/", document_views.pack_download, name="pack-download"),
    path("policies/<int:policy_pk>/schedule/", views.schedule_new, name="schedule-new"),
    path("policies/<int:policy_pk>/kpis/", views.kpi_trend, name="kpi-trend"),
    path("policies/<int:policy_pk>/adoption/import/", views.adoption_import, name="adoption-import"),
    path("adoption/", views.adoption, name="adoption"),
    path("adoption/mine/", views.adoption_mine, name="adoption-mine"),
    path("adoption/<int:pk>/edit/", views.adoption_edit, name="adoption-edit"),
    path("usage/", views.usage_list, name="usage-list"),
    path("usage/new/", views.usage_new, name="usage-new"),
    path("measures/", views.measure_list, name="measure-list"),
    path("measures/new/", views.measure_new, name="measure-new"),
    path("measures/<int:pk>/", views.measure_detail, name="measure-detail"),
    path("measures/<int:pk>/transition/", views.measure_transition, name="measure-transition"),
]
