from django.urls import path

from council.trace import views

urlpatterns = [
    path("trace/<slug:kind>/<int:pk>/", views.trace_page, name="trace"),
]
