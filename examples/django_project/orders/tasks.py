"""The example's tasks: plain Django tasks, nothing Conveyor-specific."""

from __future__ import annotations

from typing import Any

try:
    from django.tasks import TaskContext, task
except ImportError:  # Django < 6.0: the django-tasks backport
    from django_tasks import TaskContext, task


@task(queue_name="emails", priority=10)
def send_receipt(order_id: int, email: str) -> str:
    return f"receipt for order {order_id} sent to {email}"


@task(takes_context=True)
async def total(context: TaskContext, order_id: int, prices: list[float]) -> dict[str, Any]:
    return {"order": order_id, "total": round(sum(prices), 2), "attempt": context.attempt}
