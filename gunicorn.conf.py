"""gunicorn settings of the survey application, read from the working directory.

Production, from the repository: ``gunicorn -w 4 --threads 32 'survey_app:create_app()'``
(see README.md); command-line flags override what is set here. Several workers need a
shared rate-limit storage (RATELIMIT_STORAGE_URI=redis://...): with memory:// the server
refuses to start.
"""

import gc
from typing import Any

# Import the application once, before forking the workers.
preload_app = True
worker_class = "gthread"


def post_worker_init(worker: object) -> None:
    """Make a started worker's heap permanent for the cyclic garbage collector.

    Everything loaded by now (Flask, SQLAlchemy, pandas, scipy, the app) lives as long as
    the worker. A full collection walked those ~190,000 objects for ~100 ms while every
    thread of the worker waited on the GIL: the submit endpoint's p99 latency tail.
    """
    # The dashboard imports these on first use; load them before freezing.
    import scoring.compare
    import scoring.index_tree
    import scoring.par
    import scoring.weighting  # noqa: F401

    gc.freeze()


def rate_limit_problem(workers: int, app: object) -> str | None:
    """Why ``workers`` processes of ``app`` would not hold its rate limits, if they would not."""
    # flask-limiter registers itself only where rate limits are enabled.
    if workers <= 1 or not getattr(app, "extensions", {}).get("limiter"):
        return None
    uri = str(app.config.get("RATELIMIT_STORAGE_URI") or "memory://")  # type: ignore[attr-defined]
    if not uri.startswith("memory://"):
        return None
    return (
        f"RATELIMIT_STORAGE_URI is {uri}, kept in each process: {workers} workers would each "
        "count the login and citizen form limits on their own, allowing several times as "
        "many attempts. Set RATELIMIT_STORAGE_URI=redis://HOST:6379 (shared by all workers), "
        "or run one worker (-w 1)."
    )


def on_starting(server: Any) -> None:
    """Refuse to start (gunicorn prints ``Error: ...``) with several workers on memory://."""
    problem = rate_limit_problem(server.cfg.workers, server.app.wsgi())
    if problem:
        raise RuntimeError(problem)


def nworkers_changed(server: Any, new_value: int, old_value: int | None) -> None:
    """Refuse more workers at run time (TTIN) on memory:// too: keep the number there was."""
    if old_value is None:
        return  # the configured number, before the app is loaded: on_starting decides
    problem = rate_limit_problem(new_value, server.app.wsgi())
    if problem:
        server.log.error("not raising the workers to %s: %s", new_value, problem)
        server.num_workers = old_value
