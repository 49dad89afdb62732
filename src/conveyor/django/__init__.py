"""Conveyor as a backend of Django's own task framework (``django.tasks``; docs/django.md).

    TASKS = {
        "default": {
            "BACKEND": "conveyor.django.ConveyorBackend",
            "QUEUES": ["default", "emails"],
            "OPTIONS": {"STORE": "sqlite:///conveyor.db"},  # or {"DATABASE": "default"} (PostgreSQL)
        }
    }

Tasks run in Conveyor runners: ``python -m conveyor.django run`` (with ``DJANGO_SETTINGS_MODULE`` set).
Importing this module imports Django; the rest of Conveyor never does.
"""

from __future__ import annotations

from ._backend import ConveyorBackend
from ._options import DEFAULT_WORKER_OPTIONS, worker_name

__all__ = ["DEFAULT_WORKER_OPTIONS", "ConveyorBackend", "worker_name"]
