"""Conveyor: durable background workers. Name a worker, ``emit`` events to it, and it runs once per event.

>>> import conveyor
>>> app = conveyor.App("sqlite:///conveyor.db")
>>> @app.worker("send-email")
... def send_email(event): ...
>>> app.emit({"to": "ada@example.com"}, "send-email")  # doctest: +SKIP
"""

from ._app import App
from ._context import emit
from ._control import Cancel, Incomplete, Retry
from ._errors import UnknownWorkerWarning
from ._hooks import OutgoingMessage
from ._message import Message, Trace, UnknownWorker, WorkerStatus
from ._results import Failed
from ._schedules import ScheduleStatus
from ._stats import RunnerStatus, StatsBucket
from ._web import web

__all__ = [
    "App",
    "Cancel",
    "Failed",
    "Incomplete",
    "Message",
    "OutgoingMessage",
    "Retry",
    "RunnerStatus",
    "ScheduleStatus",
    "StatsBucket",
    "Trace",
    "UnknownWorker",
    "UnknownWorkerWarning",
    "WorkerStatus",
    "emit",
    "web",
]
__version__ = "0.1.0"
