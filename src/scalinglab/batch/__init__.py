"""The batch layer: map a function over independent jobs on a pluggable backend.

The bottom of the house (it knows nothing of laws, fits or training).  Every
batch of independent work in scalinglab -- fits of many groups, backtest cells,
bootstrap over groups, training runs -- goes through :func:`run_batch` or
:func:`as_completed`, so a backend plugs in here and nowhere else.

* results come back **in job order** (:func:`run_batch`) or as they finish
  (:func:`as_completed`), each as an :class:`Outcome`;
* a job that raises is a **recorded failure** (``Outcome.error``), not an
  aborted batch;
* ``progress(done, total)`` is called as jobs finish; a job may also report
  events from inside (``func(job, emit)``, forwarded to ``on_event``).

Backends: ``"serial"`` (in this process), ``"process"`` (a process pool) and
``"ray"`` (a Ray cluster or local instance; Ray is imported only when used).
Add one with :func:`register_backend`.  ``backend=None`` means
:func:`default_backend` (set with :func:`use_backend` or ``SCALINGLAB_BACKEND``);
``checkpoint="dir"`` stores finished outcomes so a re-run resumes
(:mod:`scalinglab.batch._checkpoint`).

Examples
--------
>>> out = run_batch(lambda x: 10 // x, [1, 2, 0])
>>> [o.value for o in out]
[10, 5, None]
>>> out[2].error
'ZeroDivisionError: integer division or modulo by zero'
"""

from scalinglab.batch import _process, _ray, _serial  # noqa: F401  (register the built-in backends)
from scalinglab.batch._backend import Backend, get_backend, list_backends, register_backend
from scalinglab.batch._outcome import Outcome
from scalinglab.batch._process import default_workers
from scalinglab.batch._run import as_completed, default_backend, run_batch, use_backend

__all__ = [
    "Backend",
    "Outcome",
    "as_completed",
    "default_backend",
    "default_workers",
    "get_backend",
    "list_backends",
    "register_backend",
    "run_batch",
    "use_backend",
]
