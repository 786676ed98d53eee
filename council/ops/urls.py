from django.urls import path

from council.ops import views

app_name = "ops"

urlpatterns = [
    path("ops/", views.dashboard, name="dashboard"),
    path("metrics", views.metrics, name="metrics"),
]
