from datetime import UTC, datetime, timedelta

from bot.domain.lockout import LockoutPolicy

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def test_four_failures_do_not_lock() -> None:
    assert LockoutPolicy().lock_until([NOW - timedelta(minutes=m) for m in range(4)], NOW) is None


def test_fifth_failure_within_the_hour_locks_for_an_hour() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (0, 10, 20, 30, 59)]
    assert LockoutPolicy().lock_until(failures, NOW) == NOW + timedelta(hours=1)


def test_failures_older_than_the_window_do_not_count() -> None:
    failures = [NOW - timedelta(minutes=m) for m in (0, 10, 20, 30, 61)]
    assert LockoutPolicy().lock_until(failures, NOW) is None


def test_policy_is_configurable() -> None:
    policy = LockoutPolicy(max_failures=2, window=timedelta(minutes=5), duration=timedelta(minutes=30))
    assert policy.lock_until([NOW, NOW - timedelta(minutes=4)], NOW) == NOW + timedelta(minutes=30)
