import threading

import pytest

from service.edge.ordered_stage import OrderedStage


def test_jobs_run_one_at_a_time_in_the_order_submitted():
    stage = OrderedStage("test", depth=2)
    seen, running, overlap = [], [], []

    def job(i):
        running.append(i)
        overlap.append(len(running))
        seen.append(i)
        running.remove(i)

    for i in range(50):
        stage.submit(job, i)
    stage.close()
    assert seen == list(range(50))
    assert max(overlap) == 1


@pytest.mark.parametrize("depth", [1, 3])
def test_submit_waits_while_depth_jobs_are_pending(depth):
    stage = OrderedStage("test", depth=depth)
    gate = threading.Event()
    for _ in range(depth):
        stage.submit(gate.wait)
    blocked = threading.Thread(target=stage.submit, args=(lambda: None,))
    blocked.start()
    blocked.join(timeout=0.3)
    assert blocked.is_alive()  # the producer is held back, not piling up work
    gate.set()
    blocked.join(timeout=5)
    assert not blocked.is_alive()
    stage.close()


@pytest.mark.parametrize("then", ["submit", "drain", "close"])
def test_a_failed_job_is_raised_in_the_producer(then):
    stage = OrderedStage("test", depth=1)
    stage.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        if then == "submit":
            stage.submit(lambda: None)
        else:
            getattr(stage, then)()
    stage.close()


def test_close_runs_what_is_pending():
    stage = OrderedStage("test", depth=5)
    done = []
    for i in range(5):
        stage.submit(done.append, i)
    stage.close()
    assert done == [0, 1, 2, 3, 4]


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth >= 1"):
        OrderedStage("test", depth=0)
