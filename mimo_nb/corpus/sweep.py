"""Which setting is enough? Quality against spend, measured on your own labelled questions.

:func:`asweep` (and its sync twin :func:`sweep`) asks every task, a video with a question and
the expected answer (and, for multiple choice, the options), at every setting of a grid
(``fps`` x ``media_resolution``), scores each answer, and returns a :class:`SweepResult`: the
answers with the answer read from each and its score, per setting the accuracy with its 95%
Wilson interval beside mean tokens and cost, paired comparisons (McNemar's exact test), the
quality-against-spend frontier and the cheapest setting not significantly below the best.

- **Forecast first.** The whole grid is forecast before anything is sent: per setting, the
  tasks' video tokens by :meth:`Corpus.forecast <mimo_nb.corpus.Corpus.forecast>` plus each
  question's text tokens, and the money (:attr:`SweepResult.forecast`), by the client's server
  profile or ``profile=`` (:attr:`SweepResult.profile`).
- **One run.** Every task x setting goes through :meth:`Corpus.ask
  <mimo_nb.corpus.Corpus.ask>`'s paced, budgeted, cached asking as one run (one pacer against
  the quotas, one ``max_cost``, one progress bar). ``max_cost`` refuses the sweep before
  anything is sent when the forecast for the requests not in the cache is over it, and caps the
  spend while it runs. With ``AsyncMimoClient(cache=...)`` a sweep killed at any point resumes
  paying for no answer twice, and an offline client (``MIMO_NB_OFFLINE=1``) replays it from the
  cache alone.
- **Scorers.** ``scorer`` is a name (``"exact"``, ``"choice"``, ``"number"``,
  ``"regex:<pattern>"``), a :class:`~mimo_nb.core.scoring.Scorer` or any callable of
  ``(output, expected)`` (:func:`mimo_nb.core.scoring.resolve`); a task's own ``scorer`` column
  wins over it. By default a task with ``choices`` is scored by ``"choice"``, any other by
  ``"exact"``. Each row keeps the answer text beside the answer read from it, so every score can
  be audited; the answers are cached, so scoring again (:meth:`SweepResult.rescore`) is free.

A task with ``choices`` is asked as its question, the options lettered ``A.``, ``B.``, ..., and
"Answer with the letter of one option." (:func:`task_prompt`).

Here the local rule-based stand-in (a test double, not a model: it reads the frame counters our
generated clips draw) answers; with ``MIMO_API_KEY`` set, drop ``base_url`` to ask MiMo:

>>> from mimo_nb.testing import MockMimoServer
>>> server = MockMimoServer(answer="rules").start()
>>> client = mn.MimoClient("test-key", base_url=server.base_url, cache="answers/")
>>> tasks = [{"id": "first", "video": "clip.mp4", "expected": "0",
...           "question": "What does the counter read at the start?"}]
>>> result = mn.sweep(client, tasks, fps=[0.5, 2], scorer="regex:reads (\\\\d+)", progress=False)
>>> result.to_pandas()[["fps", "answered_by", "extracted", "correct"]]
   fps answered_by extracted  correct
0  0.5    stand-in         0     True
1  2.0    stand-in         0     True
>>> result.recommend().setting
'fps 0.5, default'
>>> client.close(); server.stop()
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mimo_nb.api.response import STAND_IN
from mimo_nb.core import validate
from mimo_nb.core.display_hook import Displayed
from mimo_nb.core.pricing import Prices, estimate_cost, estimate_text_tokens
from mimo_nb.core.profiles import DEFAULT_PROFILE, Profile, get_profile
from mimo_nb.core.scoring import Score, Scorer, resolve
from mimo_nb.core.stats import (
    Comparison,
    Recommendation,
    SettingResult,
    compare,
    frontier,
    recommend,
)
from mimo_nb.core.tokens import FPS_DEFAULT, validate_fps, validate_media_resolution
from mimo_nb.corpus._ask import _AskRun, _Item
from mimo_nb.corpus._corpus import Corpus
from mimo_nb.corpus._forecast import _as_list
from mimo_nb.corpus._optional import _need_pandas
from mimo_nb.corpus._rows import COLUMNS, _typed, probe_row
from mimo_nb.errors import ConfigurationError, LimitError, VideoError
from mimo_nb.media.files import file_sha256

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes

    from mimo_nb.api.client import AsyncMimoClient, MimoClient

__all__ = [
    "SweepTask",
    "SweepRow",
    "SweepResult",
    "asweep",
    "sweep",
    "task_prompt",
    "check_tasks",
    "setting_label",
]

REQUIRED = ("video", "question", "expected")  # a task's columns
OPTIONAL = ("id", "choices", "scorer")
MCNEMAR = "McNemar's exact test, two-sided"  # the paired test, as the tables state it
ScorerSpec = str | Scorer | Callable[..., Score | bool | None]
_REFUSAL_HINT = (
    "Sweep fewer settings (lower fps, media_resolution='default' only), fewer tasks, lower "
    "max_completion_tokens or output_tokens, or raise max_cost."
)


def task_prompt(question: str, choices: Sequence[str] | None = None) -> str:
    """What a task asks: its question, then (multiple choice) its options lettered ``A.``,
    ``B.``, ... and the instruction to answer with a letter.

    >>> print(task_prompt("What colour is the square?", ["red", "green"]))
    What colour is the square?
    A. red
    B. green
    Answer with the letter of one option.
    """
    if not choices:
        return question
    options = "\n".join(f"{chr(65 + i)}. {option}" for i, option in enumerate(choices))
    return f"{question}\n{options}\nAnswer with the letter of one option."


@dataclass(frozen=True)
class SweepTask:
    """One labelled question about one video (checked): ``video`` is its path."""

    id: str
    video: str
    question: str
    expected: object
    choices: tuple[str, ...] | None
    scorer: Scorer

    @property
    def prompt(self) -> str:
        """The text sent with the video (:func:`task_prompt`)."""
        return task_prompt(self.question, self.choices)


def _missing(value: object) -> bool:
    """None, or a table's blank (NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _records(tasks: Any) -> list[Mapping[str, Any]]:
    """The tasks as a list of mappings: a DataFrame's rows, or the records given."""
    if hasattr(tasks, "to_dict") and hasattr(tasks, "columns"):
        records: list[Mapping[str, Any]] = tasks.to_dict("records")
    elif isinstance(tasks, Iterable) and not isinstance(tasks, (str, bytes, Mapping)):
        records = list(tasks)
    else:
        raise LimitError(
            f"tasks must be a DataFrame or a list of dicts, got {type(tasks).__name__}. Give one "
            "row per task with the columns video, question and expected."
        )
    if not records:
        raise LimitError("tasks is empty: give at least one task (video, question, expected).")
    return records


def _video_path(where: str, value: Any) -> str:
    from mimo_nb.media.video import Video

    if isinstance(value, Video):
        return str(value.path)
    if isinstance(value, (str, os.PathLike)) and str(value).strip():
        return os.fspath(value)
    raise LimitError(f"{where} video must be a path or a Video, got {type(value).__name__}.")


def _choices(where: str, value: Any) -> tuple[str, ...] | None:
    if _missing(value):
        return None
    if isinstance(value, (str, bytes, Mapping)) or not isinstance(value, Iterable):
        raise LimitError(
            f"{where} choices must be a list of the options' texts, got "
            f"{type(value).__name__} {value!r:.60}."
        )
    options = tuple(validate.text(f"{where} option", option) for option in value)
    if not 2 <= len(options) <= 26:
        raise LimitError(
            f"{where} choices holds {len(options)} options; a multiple-choice task has 2 to 26."
        )
    validate.distinct(f"{where} option", options)
    return options


def _task(position: int, record: Any, default: ScorerSpec | None) -> SweepTask:
    """Row ``position`` checked into a :class:`SweepTask`."""
    if not isinstance(record, Mapping):
        raise LimitError(f"task {position} must be a dict, got {type(record).__name__}.")
    missing = [c for c in REQUIRED if c not in record]
    if missing:
        raise LimitError(
            f"task {position} has no {', '.join(missing)}: every task needs the columns "
            f"{', '.join(REQUIRED)} (and may have {', '.join(OPTIONAL)})."
        )
    task_id = str(position) if _missing(record.get("id")) else str(record["id"])
    where = f"task {task_id!r}:"
    if _missing(record["expected"]):
        raise LimitError(f"{where} expected is blank; give the right answer.")
    choices = _choices(where, record.get("choices"))
    own = record.get("scorer")
    spec = default if _missing(own) else own
    chosen = resolve(spec if spec is not None else ("choice" if choices else "exact"))
    if isinstance(spec, str) or spec is None:  # a named scorer checks the expected answer now
        chosen(None, record["expected"], choices)
    return SweepTask(
        task_id,
        _video_path(where, record["video"]),
        validate.text(f"{where} question", record["question"]),
        record["expected"],
        choices,
        chosen,
    )


def check_tasks(tasks: Any, scorer: ScorerSpec | None = None) -> list[SweepTask]:
    """``tasks`` (a DataFrame or a list of dicts) checked: each has a video, a question and an
    expected answer; ids are unique; choices are 2 to 26 distinct texts; the scorer is known
    and (a named one) can read the expected answer. Raises :class:`LimitError` saying which
    task is wrong and how."""
    checked = [_task(i, record, scorer) for i, record in enumerate(_records(tasks))]
    validate.distinct("task id", [t.id for t in checked], hint="Give each task its own id.")
    return checked


def _grid(fps: Any, media_resolution: Any) -> list[tuple[float, str]]:
    """Every (fps, media_resolution) to sweep, media_resolution outer as the forecast orders."""
    rates = [validate_fps(f) for f in _as_list(fps)]
    grid = [(f, validate_media_resolution(r)) for r in _as_list(media_resolution) for f in rates]
    if not grid:
        raise LimitError("no settings to sweep: give at least one fps and one media_resolution.")
    return validate.distinct("setting", grid, hint="List each fps and media_resolution once.")


def setting_label(fps: float, media_resolution: str) -> str:
    """How a setting is named in a sweep's tables: ``'fps 2, default'``."""
    return f"fps {fps:g}, {media_resolution}"


# ---- the rows and the result ----------------------------------------------------------------


@dataclass(frozen=True)
class SweepRow:
    """One task at one setting: the answer (or why none), the answer read from it, its score,
    tokens (estimate beside actual) and cost. ``answered_by`` is ``"model"`` or
    ``"stand-in"`` (the rule-based stand-in, not a model); ``origin`` is ``"live"`` or
    ``"cache"`` (replayed from the response cache)."""

    task: str
    fps: float
    media_resolution: str
    status: str
    score: Score
    scorer: str
    answer: str | None = None
    model: str | None = None
    origin: str | None = None
    est_prompt_tokens: int | None = None
    prompt_tokens: int | None = None
    est_cost: float | None = None
    cost: float | None = None
    error: str | None = None

    @property
    def setting(self) -> str:
        """The setting's label (:func:`setting_label`)."""
        return setting_label(self.fps, self.media_resolution)

    @property
    def answered_by(self) -> str | None:
        """``"model"``, ``"stand-in"`` (the rule-based stand-in, not a model), None unanswered."""
        if self.answer is None:
            return None
        return "stand-in" if self.model == STAND_IN else "model"

    @property
    def tokens(self) -> float | None:
        """Prompt tokens as reported, else as estimated."""
        return self.prompt_tokens if self.prompt_tokens is not None else self.est_prompt_tokens


def _score(task: SweepTask, answer: str | None, why: str | None) -> Score:
    """``answer`` scored by the task's scorer; no answer is unread, with the reason."""
    if answer is None:
        return Score(None, None, task.expected, f"no answer: {why or 'not asked'}")
    return task.scorer(answer, task.expected, task.choices)


def _row(
    task: SweepTask, setting: tuple[float, str], item: _Item, estimate: tuple[int, float | None]
) -> SweepRow:
    """The row of one task x setting from what its request became in the run."""
    done = item.completion
    usage = None if done is None else done.usage
    cost = None if done is None or done.cost is None else done.cost.total
    if item.reserved_cost is not None:
        cost = item.reserved_cost
    answer = None if done is None else done.content
    error = item.error if item.error_type is None else f"{item.error_type}: {item.error}"
    return SweepRow(
        task.id,
        *setting,
        status=item.status,
        score=_score(task, answer, error),
        scorer=task.scorer.name,
        answer=answer,
        model=None if done is None else done.model,
        origin=None if done is None else done.origin,
        est_prompt_tokens=estimate[0],
        prompt_tokens=None if usage is None else usage.prompt_tokens,
        est_cost=estimate[1],
        cost=cost,
        error=error,
    )


@dataclass(frozen=True, repr=False)
class SweepResult(Displayed):
    """Every task's answer at every setting, scored; what each setting costs and how often it is
    right, with the uncertainty. ``rows`` are in setting order, tasks in their order within.

    ``forecast`` holds the grid's forecast made before anything was sent (one dict per setting:
    prompt and output tokens, cost); ``spent`` what the answers received live cost (replays from
    the cache cost nothing). ``profile`` names whose sampling rules the estimates followed: the
    hosted API's (``"mimo-api"``) or a self-hosted server's (:mod:`mimo_nb.core.profiles`).
    """

    tasks: tuple[SweepTask, ...]
    settings: tuple[tuple[float, str], ...]
    rows: tuple[SweepRow, ...]
    forecast: tuple[dict[str, Any], ...] = ()
    currency: str | None = None
    spent: float = 0.0
    profile: str = DEFAULT_PROFILE

    # -- the table --

    def to_pandas(self) -> pd.DataFrame:
        """One row per task x setting: task, setting, status, who answered and from where,
        tokens (estimate beside actual), cost, the answer, the answer read, expected, correct."""
        pd = _need_pandas()
        questions = {t.id: t.question for t in self.tasks}
        table = pd.DataFrame.from_records(
            [
                {
                    "task": r.task,
                    "setting": r.setting,
                    "fps": r.fps,
                    "media_resolution": r.media_resolution,
                    "status": r.status,
                    "answered_by": r.answered_by,
                    "origin": r.origin,
                    "est_prompt_tokens": r.est_prompt_tokens,
                    "prompt_tokens": r.prompt_tokens,
                    "est_cost": r.est_cost,
                    "cost": r.cost,
                    "question": questions[r.task],
                    "answer": r.answer,
                    "extracted": r.score.extracted,
                    "expected": r.score.expected,
                    "correct": r.score.correct,
                    "scorer": r.scorer,
                    "note": r.score.note,
                    "error": r.error,
                }
                for r in self.rows
            ]
        )
        for column in ("est_prompt_tokens", "prompt_tokens"):
            table[column] = table[column].astype("Int64")
        table["correct"] = table["correct"].astype("boolean")
        return table

    # -- per setting --

    def _rows_of(self, setting: tuple[float, str]) -> list[SweepRow]:
        return [r for r in self.rows if (r.fps, r.media_resolution) == setting]

    @property
    def stand_in(self) -> bool:
        """True when any answer came from the rule-based stand-in (not a model)."""
        return any(r.answered_by == "stand-in" for r in self.rows)

    @property
    def missing(self) -> int:
        """How many task x setting pairs have no answer (an error, or not sent: max_cost)."""
        return sum(r.answer is None for r in self.rows)

    def setting_results(self) -> list[SettingResult]:
        """Each setting's outcomes on the tasks (in task order), mean prompt tokens per video
        (reported, else estimated) and mean cost per video (None when any is unpriced)."""
        results = []
        for setting in self.settings:
            rows = self._rows_of(setting)
            costs = [r.cost for r in rows]
            results.append(
                SettingResult(
                    setting_label(*setting),
                    tuple(r.score.correct for r in rows),
                    _mean([r.tokens for r in rows]) or 0.0,
                    None if None in costs else _mean(costs),
                )
            )
        return results

    def summary(self) -> pd.DataFrame:
        """One row per setting: tasks scored, right, unreadable, unanswered, accuracy with its
        95% Wilson score interval, mean prompt tokens per video (reported, and estimated) and
        mean cost per video. Unanswered tasks count as not right. Under a self-hosted server's
        profile a last column, ``profile``, names it (the estimates followed its rules)."""
        rows = []
        for setting, result in zip(self.settings, self.setting_results(), strict=True):
            answered = self._rows_of(setting)
            interval = result.interval
            rows.append(
                {
                    "setting": result.label,
                    "fps": setting[0],
                    "media_resolution": setting[1],
                    "n": result.total,
                    "correct": result.correct,
                    "unreadable": sum(
                        r.answer is not None and r.score.correct is None for r in answered
                    ),
                    "unanswered": sum(r.answer is None for r in answered),
                    "accuracy": interval.estimate,
                    "ci_low": interval.low,
                    "ci_high": interval.high,
                    "interval": interval.text(),
                    "mean_prompt_tokens": result.mean_tokens,
                    "mean_est_prompt_tokens": _mean([r.est_prompt_tokens for r in answered]),
                    "mean_cost": result.cost,
                    "currency": self.currency,
                    "answered_by": ", ".join(
                        sorted({r.answered_by for r in answered if r.answered_by})
                    ),
                }
            )
            if self.profile != DEFAULT_PROFILE:
                rows[-1]["profile"] = self.profile
        return _need_pandas().DataFrame.from_records(rows)

    def _complete(self) -> list[SettingResult]:
        if self.missing:
            raise LimitError(
                f"{self.missing} of {len(self.rows)} task x setting pairs have no answer (errors, "
                "or not sent under max_cost; to_pandas() says which): a comparison would count "
                "them wrong. Run the sweep again with the same cache to ask only those."
            )
        return self.setting_results()

    def _find(self, setting: Any) -> SettingResult:
        results = self._complete()
        for result, (fps, resolution) in zip(results, self.settings, strict=True):
            if setting in (result.label, (fps, resolution)):
                return result
        matches = [r for r, (fps, _) in zip(results, self.settings, strict=True) if setting == fps]
        if len(matches) == 1 and not isinstance(setting, bool):
            return matches[0]
        names = ", ".join(repr(r.label) for r in results)
        raise LimitError(
            f"no single setting {setting!r} in this sweep; name one of {names}, an "
            "(fps, media_resolution) pair, or an fps swept at one media_resolution."
        )

    def compare(self, a: Any, b: Any) -> Comparison:
        """Settings ``a`` and ``b`` on the same tasks: how many only each got right and
        McNemar's exact two-sided p-value (:func:`mimo_nb.core.stats.compare`). Name a setting
        by its label (``'fps 2, default'``), an ``(fps, media_resolution)`` pair, or its fps."""
        return compare(self._find(a), self._find(b))

    def comparisons(self) -> pd.DataFrame:
        """Every other setting against the most accurate one (the cheaper on a tie), paired on
        the same tasks: how many only each got right, the difference in accuracy and McNemar's
        exact two-sided p-value (no correction for the several tests: each stands alone)."""
        results = self._complete()
        best = max(results, key=lambda s: s.correct)
        rows = []
        for other in results:
            if other is best:
                continue
            c = compare(best, other)
            rows.append(
                {
                    "best": c.first,
                    "setting": c.second,
                    "only_best": c.only_first,
                    "only_setting": c.only_second,
                    "difference": (best.correct - other.correct) / best.total,
                    "p_value": c.p_value,
                    "test": MCNEMAR,
                }
            )
        columns = ["best", "setting", "only_best", "only_setting", "difference", "p_value", "test"]
        return _need_pandas().DataFrame.from_records(rows, columns=columns)

    def frontier(self) -> tuple[SettingResult, ...]:
        """The settings no other matches or beats on accuracy at no more spend, cheapest first
        (:func:`mimo_nb.core.stats.frontier`; point estimates)."""
        return frontier(self._complete())

    def recommend(self, *, within: float | None = None, alpha: float = 0.05) -> Recommendation:
        """The cheapest setting whose accuracy is not significantly below the best's (McNemar's
        exact test at ``alpha``) and, given ``within``, at most ``within`` below it (0.05: five
        points); ``reason`` says the rule and the numbers in words
        (:func:`mimo_nb.core.stats.recommend`), and whether the rule-based stand-in answered."""
        chosen = recommend(self._complete(), alpha=alpha, within=within)
        if not self.stand_in:
            return chosen
        said = " The answers came from the rule-based stand-in, not a model."
        return dataclasses.replace(chosen, reason=chosen.reason + said)

    def rescore(self, scorer: ScorerSpec) -> SweepResult:
        """The same answers scored by ``scorer`` (a name, Scorer or callable): nothing is sent."""
        chosen = resolve(scorer)
        tasks = tuple(dataclasses.replace(t, scorer=chosen) for t in self.tasks)
        by_id = {t.id: t for t in tasks}
        rows = tuple(
            dataclasses.replace(
                r, score=_score(by_id[r.task], r.answer, r.error), scorer=chosen.name
            )
            for r in self.rows
        )
        return dataclasses.replace(self, tasks=tasks, rows=rows)

    def plot(self, ax: Axes | None = None) -> Axes:
        """Accuracy with its 95% interval against mean prompt tokens per video, one point per
        setting, the frontier drawn and the recommendation marked
        (:func:`mimo_nb.display.plots.plot_sweep`)."""
        from mimo_nb.display.plots import plot_sweep

        return plot_sweep(self, ax=ax)

    def __repr__(self) -> str:
        return (
            f"<SweepResult {len(self.tasks)} tasks x {len(self.settings)} settings, "
            f"{len(self.rows) - self.missing} answered"
            + ("" if self.profile == DEFAULT_PROFILE else f", profile {self.profile!r}")
            + (", rule-based stand-in (not a model)" if self.stand_in else "")
            + ">"
        )


def _mean(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else None


# ---- running it -----------------------------------------------------------------------------


async def _task_corpus(tasks: Sequence[SweepTask]) -> Corpus:
    """The tasks' videos probed (in this process), one row per task; a video that cannot be
    opened is a :class:`VideoError` naming its task, before anything is sent."""
    rows = await asyncio.gather(*(asyncio.to_thread(probe_row, t.video) for t in tasks))
    for task, row in zip(tasks, rows, strict=True):
        if row["error_type"] is not None:
            raise VideoError(
                f"task {task.id!r}: {row['error']}",
                reason=row["error_reason"] or "unreadable",
                source=task.video,
            )
    _check_no_repeats(tasks, rows)
    pd = _need_pandas()
    table = pd.DataFrame.from_records(rows, columns=list(COLUMNS))
    table["name"] = [t.id for t in tasks]
    return Corpus(_typed(table), source="a sweep's tasks")


def _check_no_repeats(tasks: Sequence[SweepTask], rows: Sequence[Mapping[str, Any]]) -> None:
    """Refuse two tasks asking the same question (and choices) about the same video bytes: they
    are one request, so one would be answered from the other's cache entry or not, by timing,
    and counting both would treat one observation as two. Only videos of equal size and prompt
    are hashed."""
    alike: dict[tuple[object, str], list[SweepTask]] = {}
    for task, row in zip(tasks, rows, strict=True):
        alike.setdefault((row["size_bytes"], task.prompt), []).append(task)
    for group in (g for g in alike.values() if len(g) > 1):
        seen: dict[str, str] = {}
        for task in group:
            content = task.video if "://" in task.video else file_sha256(task.video)
            if content in seen:
                raise LimitError(
                    f"tasks {seen[content]!r} and {task.id!r} ask the same question about the "
                    "same video (identical bytes): they are one request, and counting both would "
                    "count one answer twice. Remove one, or ask each its own question."
                )
            seen[content] = task.id


def _forecast(
    corpus: Corpus,
    tasks: Sequence[SweepTask],
    grid: Sequence[tuple[float, str]],
    *,
    system: str | None,
    output_tokens: int,
    prices: Prices | None,
    profile: str | Profile,
) -> tuple[dict[str, Any], ...]:
    """Per setting: the videos' tokens (:meth:`Corpus.forecast`, by ``profile``'s rules) plus
    each question's text, and their cost (None on an unpriced client, e.g. a self-hosted
    model)."""
    text = sum(estimate_text_tokens((system or "") + t.prompt) for t in tasks)
    rates = list(dict.fromkeys(f for f, _ in grid))
    sizes = list(dict.fromkeys(r for _, r in grid))
    videos = corpus.forecast(
        rates, sizes, output_tokens=output_tokens, prices=prices, profile=profile
    )
    rows = []
    for row in videos.rows:
        prompt = row["prompt_tokens"] + text
        cost = None
        if prices is not None:
            cost = estimate_cost(prompt, prices, output_tokens=row["output_tokens"]).total
        rows.append(
            {
                "setting": setting_label(row["fps"], row["media_resolution"]),
                "fps": row["fps"],
                "media_resolution": row["media_resolution"],
                "tasks": len(tasks),
                "prompt_tokens": prompt,
                "output_tokens": row["output_tokens"],
                "cost": cost,
                "currency": None if prices is None else prices.currency,
            }
        )
    return tuple(rows)


async def asweep(
    client: AsyncMimoClient,
    tasks: Any,
    *,
    fps: float | Sequence[float] = FPS_DEFAULT,
    media_resolution: str | Sequence[str] = "default",
    scorer: ScorerSpec | None = None,
    max_cost: float | None = None,
    system: str | None = None,
    max_completion_tokens: int = 1024,
    output_tokens: int | None = None,
    concurrency: int = 8,
    requests_per_minute: int | None = None,
    tokens_per_minute: int | None = None,
    window: float = 60.0,
    progress: bool = True,
    profile: str | Profile | None = None,
    **extra: Any,
) -> SweepResult:
    """Ask every task at every setting of ``fps`` x ``media_resolution``, score the answers.

    Args:
        client: an :class:`~mimo_nb.api.client.AsyncMimoClient`; give it ``cache=`` to resume
            a killed sweep and to replay it offline, ``prices=`` for costs and ``max_cost``.
        tasks: a DataFrame or a list of dicts, one per task: ``video`` (a path or
            :class:`~mimo_nb.media.video.Video`), ``question``, ``expected``; optionally
            ``id`` (default: the row's position), ``choices`` (the options' texts, A first) and
            ``scorer`` (this task's own).
        fps, media_resolution: one value or several; every combination is a setting.
        scorer: how answers are scored (see the module docstring); default ``"choice"`` for a
            task with choices, else ``"exact"``.
        max_cost: refuse before sending anything when the forecast for the requests not in the
            cache is over it; while running, send only while the spend stays within it.
        system, max_completion_tokens, **extra: as for ``client.ask``; ``output_tokens`` the
            answer length the forecast assumes (default ``max_completion_tokens``).
        concurrency, requests_per_minute, tokens_per_minute, window, progress: as for
            :meth:`Corpus.ask <mimo_nb.corpus.Corpus.ask>`.
        profile: whose sampling rules the forecast, the estimates and ``max_cost`` follow:
            None for the client's own (``client.profile``), or a profile's name or a
            :class:`~mimo_nb.core.profiles.Profile` (a self-hosted server's, e.g.
            ``"sglang-mimo-v2"``): the sweep then asks through
            ``client.with_options(profile=profile)``.
    """
    if not asyncio.iscoroutinefunction(getattr(client, "send", None)):
        raise LimitError(
            "asweep needs an AsyncMimoClient (await asweep(aclient, tasks, ...)); with a "
            "MimoClient, call mn.sweep(client, tasks, ...)."
        )
    from mimo_nb.api.client import PER_CALL_OPTIONS

    validate.keywords("sweep", extra, asweep, PER_CALL_OPTIONS)
    if profile is not None:  # the same connections, estimates by this profile
        client = client.with_options(profile=profile)
    rules = get_profile(client.profile)
    checked = check_tasks(tasks, scorer)
    grid = _grid(fps, media_resolution)
    output = validate.non_negative_int(
        "output_tokens", max_completion_tokens if output_tokens is None else output_tokens
    )
    corpus = await _task_corpus(checked)
    forecast = _forecast(
        corpus,
        checked,
        grid,
        system=system,
        output_tokens=output,
        prices=client.prices,
        profile=rules,
    )
    every = corpus[[i for _ in grid for i in range(len(checked))]]  # task x setting, setting-major
    run = _AskRun(
        every,
        client,
        [t.prompt for _ in grid for t in checked],
        fps=[f for f, _ in grid for _ in checked],
        media_resolution=[r for _, r in grid for _ in checked],
        system=system,
        max_completion_tokens=max_completion_tokens,
        concurrency=concurrency,
        requests_per_minute=requests_per_minute,
        tokens_per_minute=tokens_per_minute,
        window=window,
        max_cost=max_cost,
        output_tokens=output_tokens,
        progress=progress,
        extra=extra,
        refusal_hint=_REFUSAL_HINT,
    )
    answers = await run.execute(dry_run=False)
    unpriced = answers.prices is None  # then no cost is estimated
    rows = tuple(
        _row(
            checked[item.position % len(checked)],
            grid[item.position // len(checked)],
            item,
            (int(answers.est_prompt_tokens[k]), None if unpriced else float(answers.est_cost[k])),
        )
        for k, item in enumerate(answers.items)
    )
    currency = None if answers.prices is None else answers.prices.currency
    return SweepResult(
        tuple(checked), tuple(grid), rows, forecast, currency, answers.spent, rules.name
    )


def _async_twin(client: MimoClient | AsyncMimoClient) -> AsyncMimoClient:
    """An AsyncMimoClient with ``client``'s options (key, URL, cache, prices, offline, ...)."""
    from mimo_nb.api.client import AsyncMimoClient, ClientOptions

    if getattr(client, "_custom_http", False):  # its requests would otherwise go elsewhere
        raise ConfigurationError(
            f"sweep() asks through a new AsyncMimoClient made from this {type(client).__name__}'s "
            "options, and its custom transport or http_client cannot be carried over; run "
            "`await mimo_nb.corpus.sweep.asweep(aclient, tasks, ...)` with an AsyncMimoClient "
            "made with the transport you want."
        )
    options = client.options
    return AsyncMimoClient(
        **{f.name: getattr(options, f.name) for f in dataclasses.fields(ClientOptions)}
    )


def sweep(client: MimoClient | AsyncMimoClient, tasks: Any, **options: Any) -> SweepResult:
    """:func:`asweep` for code without ``await``: the same arguments, the same result.

    It runs on an event loop of its own, with an :class:`~mimo_nb.api.client.AsyncMimoClient`
    made from ``client``'s options (key, base URL, cache, prices, offline), in a worker thread
    when this thread already runs a loop, as a notebook's does. A client made with a custom
    ``transport`` or ``http_client`` is refused (:class:`~mimo_nb.ConfigurationError`): those
    cannot be carried over, and the requests must not go anywhere else. In a
    notebook, ``await asweep(aclient, tasks, ...)`` does the same without the thread.
    """

    async def run() -> SweepResult:  # asweep checks the options before any work
        async with _async_twin(client) as twin:
            return await asweep(twin, tasks, **options)

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(run())
    with ThreadPoolExecutor(1, thread_name_prefix="mimo-sweep") as pool:
        return pool.submit(asyncio.run, run()).result()
