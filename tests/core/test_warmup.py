"""Start-up warming starts the worker threads before the first request needs them."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.core.warmup import open_connections, prestart_threads
from store.db import make_engine


def test_every_worker_thread_is_running_before_any_work_is_submitted() -> None:
    pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="warm-test")
    try:
        assert prestart_threads(pool) == 6
        names = {t.name for t in threading.enumerate() if t.name.startswith("warm-test")}
        assert len(names) == 6
        # and the pool still does work afterwards
        assert pool.submit(lambda: 41 + 1).result(timeout=5) == 42
    finally:
        pool.shutdown(wait=True)


def test_a_busy_pool_is_not_blocked_by_warming() -> None:
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="busy-test")
    release = threading.Event()
    try:
        pool.submit(release.wait, 10)
        assert prestart_threads(pool) == 3  # returns at once, the barrier times out later
        release.set()
        assert pool.submit(lambda: "ok").result(timeout=10) == "ok"
    finally:
        release.set()
        pool.shutdown(wait=True)


def test_database_connections_are_open_before_the_first_request(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'warm.db'}")
    try:
        assert engine.pool.checkedin() == 0
        assert open_connections(engine, 4) == 4
        assert engine.pool.checkedin() == 4  # kept by the pool for the first burst
    finally:
        engine.dispose()


def test_the_record_validators_are_built_at_start_up() -> None:
    import subprocess
    import sys

    # A fresh process: in this one, other tests have validated records already.
    code = ("from bot.core.exchange_records import SignalRecord, build_validators\n"
            "before = SignalRecord.__pydantic_complete__\n"
            "build_validators()\n"
            "print(before, SignalRecord.__pydantic_complete__)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]  # deferred at import, built by the warm-up


def test_the_host_name_codec_is_loaded_at_start_up() -> None:
    import subprocess
    import sys

    # A fresh process: the first connection to a host name would import it otherwise.
    code = ("import sys\nfrom bot.core.warmup import load_codecs\n"
            "before = 'encodings.idna' in sys.modules\n"
            "load_codecs()\n"
            "print(before, 'encodings.idna' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "True"]
