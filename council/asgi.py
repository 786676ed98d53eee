import os

from django.core.asgi import get_asgi_application

from council.startup import or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
application = or_exit(get_asgi_application)
