"""gunicorn settings of the survey application, read from the working directory.

Production, from the repository: ``gunicorn -w 4 --threads 32 'survey_app:create_app()'``
(see README.md); command-line flags override what is set here.
"""

import gc

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
    import scoring.compare  # noqa: F401
    import scoring.index_tree  # noqa: F401
    import scoring.par  # noqa: F401
    import scoring.weighting  # noqa: F401

    gc.freeze()
