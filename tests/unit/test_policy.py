import pytest

from conveyor._runtime._policy import MAX_BACKOFF, retry_delay


@pytest.mark.parametrize("attempt", [1, 2, 3, 5])
def test_exponential_with_jitter(attempt: int) -> None:
    base = 2.0 * 2 ** (attempt - 1)
    delays = [retry_delay(2.0, attempt) for _ in range(200)]
    assert all(0.8 * base <= d <= 1.2 * base for d in delays)
    assert len(set(delays)) > 100  # jittered, not constant


def test_capped_at_an_hour_and_zero_means_at_once() -> None:
    assert retry_delay(1.0, 500) <= MAX_BACKOFF
    assert retry_delay(0, 3) == 0.0


def test_callable_backoff_gets_the_attempt() -> None:
    assert retry_delay(lambda attempt: attempt * 10, 3) == 30.0
    assert retry_delay(lambda attempt: -5, 1) == 0.0
