"""Settings of the example project: Django's tasks run by Conveyor (docs/django.md).

cd examples/django_project
DJANGO_SETTINGS_MODULE=mysite.settings python -m conveyor.django run   # the runners
python manage.py place_order 7 --email ada@example.com --wait 30      # enqueue, wait, print
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "example-only-not-secret"
DEBUG = True
USE_TZ = True
ALLOWED_HOSTS: list[str] = []

# Django 6 has django.tasks built in; on an older Django (Python 3.11) the django-tasks backport is an app.
INSTALLED_APPS = [*(["django_tasks"] if find_spec("django.tasks") is None else []), "orders"]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("EXAMPLE_DJANGO_DB", BASE_DIR / "db.sqlite3"),
    }
}

TASKS = {
    "default": {
        "BACKEND": "conveyor.django.ConveyorBackend",
        "QUEUES": ["default", "emails"],  # Conveyor workers "django.default" and "django.emails"
        "OPTIONS": {
            # A Conveyor store URL. With PostgreSQL as Django's database, {"DATABASE": "default"} instead
            # makes enqueue part of Django's transactions.
            "STORE": os.environ.get("CONVEYOR_STORE", f"sqlite:///{BASE_DIR / 'conveyor.db'}"),
            "WORKER_OPTIONS": {"max_attempts": 3, "results": 3600},
        },
    }
}

LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"orders": {"handlers": ["console"], "level": "INFO"}},
}
