"""The production server settings (gunicorn.conf.py at the repository root)."""

import runpy
import subprocess
import sys
from pathlib import Path

CONF = Path(__file__).resolve().parents[1] / "gunicorn.conf.py"


def test_started_workers_keep_their_loaded_heap_out_of_the_cyclic_collector() -> None:
    code = (
        f"import gc, runpy; conf = runpy.run_path({str(CONF)!r}); "
        "assert gc.get_freeze_count() == 0; "
        "conf['post_worker_init'](None); print(gc.get_freeze_count())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(out.stdout) > 50_000  # scoring, numpy, scipy and pandas among them


def test_the_app_is_loaded_once_before_forking_threaded_workers() -> None:
    conf = runpy.run_path(str(CONF))
    assert conf["preload_app"] is True and conf["worker_class"] == "gthread"
