"""``python manage.py place_order ID --email E [--wait S]``: enqueue the order's tasks, print each task
result as a JSON line; with ``--wait``, wait for each to finish and print it again."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from orders.tasks import send_receipt, total


class Command(BaseCommand):
    help = "Enqueue an order's tasks (and wait for their results)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("order_id", type=int)
        parser.add_argument("--email", default="ada@example.com")
        parser.add_argument("--wait", type=float, default=None, help="seconds to wait for the results")

    def handle(self, *args: Any, **options: Any) -> None:
        order_id = options["order_id"]
        with transaction.atomic():  # with OPTIONS {"DATABASE": …}: the tasks commit with the order
            results = [
                send_receipt.enqueue(order_id, options["email"]),
                total.enqueue(order_id, [19.99, 5.01]),
            ]
        for result in results:
            if options["wait"] is not None:
                # Conveyor wakes the waiter when the result commits (no polling); then Django reads it
                backend: Any = result.task.get_backend()
                backend.app.result(int(result.id), timeout=options["wait"])
                result.refresh()
            self.stdout.write(json.dumps(_shown(result)))


def _shown(result: Any) -> dict[str, Any]:
    return {
        "id": result.id,
        "task": result.task.name,
        "status": str(result.status),
        "return_value": result.return_value if result.status == "SUCCESSFUL" else None,
        "attempts": result.attempts,
        "worker_ids": result.worker_ids,
    }
