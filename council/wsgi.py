import os

from django.core.wsgi import get_wsgi_application

from council.startup import or_exit

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "council.settings")
application = or_exit(get_wsgi_application)
