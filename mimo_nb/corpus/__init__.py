"""Research at corpus scale: scan thousands of videos, forecast the bill, ask paced and resumable.

Here ``videos/`` holds three generated clips of 1, 2 and 3 seconds:

>>> import mimo_nb as mn
>>> corpus = mn.Corpus.scan("videos/")                 # probe every file, in parallel processes
>>> corpus                                             # count, hours, formats, failures, histograms
<Corpus 3 items (3 probed, 0 failed) from folder videos/>
>>> corpus.to_pandas()[["name", "duration", "width"]]  # one row per file (a broken file is a row)
        name  duration  width
0  clip1.mp4       1.0    160
1  clip2.mp4       2.0    160
2  clip3.mp4       3.0    160
>>> forecast = corpus.forecast(fps=[0.5, 1, 2], media_resolution=["default", "max"])  # tokens, cost
>>> forecast.to_pandas()[["fps", "media_resolution", "prompt_tokens"]].head(3)
   fps media_resolution  prompt_tokens
0  0.5          default            126
1  1.0          default            151
2  2.0          default            201
>>> choice = corpus.max_fps(cost=50, prices=mn.load_prices("mimo-v2.5", "CNY"))  # 0.1 fps grid
>>> choice.fps, choice.total_tokens
(10.0, 3933)
>>> sorted(result.value for result in corpus.map(SaveContactSheet("sheets/")))  # frame work
['sheets/clip1.png', 'sheets/clip2.png', 'sheets/clip3.png']

Asking takes an :class:`~mimo_nb.api.client.AsyncMimoClient` and a notebook's top-level ``await``
(which doctest cannot run; ``tests/test_corpus.py`` runs it against the local stand-in):

>>> answers = await corpus.ask(client, "Describe the video.", fps=1,       # doctest: +SKIP
...                            tokens_per_minute=2_000_000, max_cost=50)
>>> answers.to_pandas()          # the scan's rows, estimate beside actual  # doctest: +SKIP

What runs where. Probing (``scan``) and frame work (``map``) are CPU work: they go to an
executor, any :class:`concurrent.futures.Executor`; by default a local process pool, and
``dask.distributed.Client(...).get_executor()`` puts them on a cluster (``pip install
'mimo_nb[dask]'``). Asking is I/O paced against the account's quotas: it stays on one event
loop in this process, so one place knows what has been sent and what the quotas allow.

Resuming. Give the client a cache (``AsyncMimoClient(cache="answers/")``): every answer is
written to it (atomically) as it arrives, and a run started again, after a crash or a
``SIGKILL``, replays those from the cache and sends only the rest. A request that was in flight
when the process died was never answered to us and is sent again; if the server had already
started on it, that one may be billed twice (at most ``concurrency`` requests).

The package's modules, one job each: ``_sources`` (what to scan), ``_rows`` (an item probed
into a row), ``_workers`` (the process pool and guarded runs), ``_map`` (frame work),
``_summary``, ``_forecast``, ``_ask`` (paced asking and its answers) and ``_corpus`` (the
:class:`Corpus` that ties them together). Everything public is imported here, but for two modules
built on them: ``long`` (a video of any length, asked by segments) and ``sweep`` (every labelled
task at every setting, asked as one run and scored: ``mn.sweep``).
"""

from __future__ import annotations

# Every public name of the package, from the module that defines it; those outside __all__ are
# re-exported as `X as X` (PEP 484), importable from here as before the split.
from mimo_nb.core.budget import FPS_GRID  # the API's fps values, 0.1 .. 10.0
from mimo_nb.corpus._ask import STATUS_ANSWERED as STATUS_ANSWERED
from mimo_nb.corpus._ask import STATUS_ERROR as STATUS_ERROR
from mimo_nb.corpus._ask import STATUS_NOT_PROBED as STATUS_NOT_PROBED
from mimo_nb.corpus._ask import STATUS_REPLAYED as STATUS_REPLAYED
from mimo_nb.corpus._ask import STATUS_SKIPPED as STATUS_SKIPPED
from mimo_nb.corpus._ask import STATUS_WOULD_REPLAY as STATUS_WOULD_REPLAY
from mimo_nb.corpus._ask import STATUS_WOULD_SEND as STATUS_WOULD_SEND
from mimo_nb.corpus._ask import CorpusAnswers
from mimo_nb.corpus._corpus import Corpus
from mimo_nb.corpus._forecast import Forecast, FpsChoice
from mimo_nb.corpus._map import MapResult, SaveContactSheet
from mimo_nb.corpus._rows import COLUMNS as COLUMNS
from mimo_nb.corpus._rows import TEXT_COLUMNS as TEXT_COLUMNS
from mimo_nb.corpus._rows import probe_row
from mimo_nb.corpus._sources import MANIFEST_SUFFIXES as MANIFEST_SUFFIXES
from mimo_nb.corpus._sources import PATH_COLUMNS as PATH_COLUMNS
from mimo_nb.corpus._sources import VIDEO_SUFFIXES
from mimo_nb.corpus._sources import expand_source as expand_source
from mimo_nb.corpus._summary import SIZE_CLASSES as SIZE_CLASSES
from mimo_nb.corpus._summary import CorpusSummary
from mimo_nb.corpus._summary import size_class as size_class
from mimo_nb.corpus._workers import MAX_CRASHES as MAX_CRASHES
from mimo_nb.corpus._workers import ORPHAN_POLL as ORPHAN_POLL
from mimo_nb.corpus._workers import PR_SET_PDEATHSIG as PR_SET_PDEATHSIG
from mimo_nb.corpus._workers import Job as Job
from mimo_nb.corpus._workers import Unsent as Unsent
from mimo_nb.corpus._workers import default_executor
from mimo_nb.corpus._workers import run_bounded as run_bounded
from mimo_nb.corpus._workers import run_guarded as run_guarded

__all__ = [
    "Corpus",
    "CorpusSummary",
    "Forecast",
    "FpsChoice",
    "CorpusAnswers",
    "MapResult",
    "SaveContactSheet",
    "probe_row",
    "default_executor",
    "VIDEO_SUFFIXES",
    "FPS_GRID",
]
