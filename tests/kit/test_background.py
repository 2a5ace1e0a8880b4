"""`kit.background.writes_behind`: jobs run in order on one thread, a failed job stops the writer and
fails the block with its own error, and a failing caller drops what is still queued."""

from __future__ import annotations

import threading
import time

import pytest

from recoup.kit.background import writes_behind


class TestWritesBehind:
    def test_jobs_run_in_order_on_one_thread_and_all_before_the_exit(self) -> None:
        ran: list[tuple[int, str]] = []
        with writes_behind(depth=1) as writer:
            for i in range(20):
                writer.submit(lambda i=i: ran.append((i, threading.current_thread().name)))
        assert [i for i, _ in ran] == list(range(20))
        assert {name for _, name in ran} == {"writes-behind"}

    def test_a_failed_job_stops_the_writer_and_fails_the_block_with_its_error(self) -> None:
        """Caught with the exit's re-raise removed (the block ended quietly), and with the
        writer's skip after a failure removed (the jobs after the failed one ran)."""
        ran: list[int] = []

        def job(i: int) -> None:
            if i == 3:
                raise ValueError("the COPY failed")
            ran.append(i)

        def submit_six() -> None:
            with writes_behind(depth=8) as writer:
                for i in range(6):  # all queued before the writer reaches the failing one
                    writer.submit(job, i)

        with pytest.raises(ValueError, match="the COPY failed"):
            submit_six()
        assert ran == [0, 1, 2]
        assert not any(t.name == "writes-behind" for t in threading.enumerate())

    def test_a_submit_after_the_failure_raises_it_at_once(self) -> None:
        failed = threading.Event()

        def fails() -> None:
            failed.set()
            raise ValueError("the COPY failed")

        submitted_after: list[int] = []

        def submit_after_the_failure() -> None:
            with writes_behind() as writer:
                writer.submit(fails)
                failed.wait()
                time.sleep(0.05)  # the error recorded
                writer.submit(lambda: None)
                submitted_after.append(1)

        with pytest.raises(ValueError, match="the COPY failed"):
            submit_after_the_failure()
        assert submitted_after == []

    def test_a_failing_caller_lets_the_running_job_finish_and_drops_the_queued(self) -> None:
        started, release = threading.Event(), threading.Event()
        ran: list[str] = []

        def slow() -> None:
            started.set()
            release.wait()
            ran.append("slow")

        def fail_while_writing() -> None:
            with writes_behind(depth=4) as writer:
                writer.submit(slow)
                writer.submit(lambda: ran.append("queued"))
                started.wait()
                threading.Timer(0.1, release.set).start()
                raise RuntimeError("the kernel failed")

        with pytest.raises(RuntimeError, match="the kernel failed"):
            fail_while_writing()
        assert ran == ["slow"]  # finished before the error left the block; the next one dropped

    def test_without_a_thread_jobs_run_at_once(self) -> None:
        ran: list[str] = []
        with writes_behind(background=False) as writer:
            writer.submit(lambda: ran.append(threading.current_thread().name))
            assert ran == [threading.current_thread().name]
