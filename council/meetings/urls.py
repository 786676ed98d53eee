"""Pages of the council's meetings (会議)."""

from django.urls import path

from council.meetings import views

app_name = "meetings"

urlpatterns = [
    path("meetings/", views.meeting_list, name="list"),
    path("meetings/new/", views.meeting_create, name="create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="detail"),
    path("meetings/<int:pk>/edit/", views.meeting_edit, name="edit"),
    path("meetings/<int:pk>/delete/", views.meeting_delete, name="delete"),
    path("meetings/<int:pk>/transition/", views.meeting_transition, name="transition"),
    path("meetings/<int:pk>/minutes/", views.minutes_edit, name="minutes"),
    path("meetings/<int:pk>/attendees/", views.attendees, name="attendees"),
    path("meetings/<int:pk>/attendees/<int:attendee_pk>/delete/", views.attendee_remove, name="attendee-remove"),
    path("meetings/<int:pk>/agenda/new/", views.agenda_item_create, name="item-create"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/edit/", views.agenda_item_edit, name="item-edit"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/delete/", views.agenda_item_delete, name="item-delete"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/move/", views.agenda_item_move, name="item-move"),
    path("meetings/<int:pk>/agenda/<int:item_pk>/decision/", views.decision_record, name="decision"),
    path("meetings/<int:pk>/pdf/<str:kind>/", views.meeting_pdf_view, name="pdf"),
]
