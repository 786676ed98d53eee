from django.urls import path

from council.dashboards import views

app_name = "dashboards"

urlpatterns = [
    path("dashboard/prefectures/<str:code>/", views.prefecture, name="prefecture"),
    path("dashboard/costs/", views.costs, name="costs"),
    path("dashboard/export/<slug:table>.<slug:fmt>", views.export, name="export"),
    path("open-data/", views.open_data, name="open-data"),
    path("open-data/council-open-data.zip", views.open_data_zip, name="open-data-zip"),
]
