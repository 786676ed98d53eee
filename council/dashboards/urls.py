from django.urls import path

from council.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/prefectures/<str:code>/", views.prefecture, name="prefecture"),
    path("dashboard/costs/", views.costs, name="costs"),
    path("dashboard/export/<slug:table>.<slug:fmt>", views.export, name="export"),
]
