"""What a corpus holds, in numbers: counts, hours, formats, size classes, delivery, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

# Short side of the displayed frame -> class, as video sizes are usually named.
SIZE_CLASSES = (
    (0, "< 360p"),
    (360, "360p"),
    (480, "480p"),
    (720, "720p"),
    (1080, "1080p"),
    (1440, "1440p"),
    (2160, "4K+"),
)


def size_class(width: int, height: int) -> str:
    """The common name of a frame size by its short side: ``"720p"`` covers 720..1079, and so on."""
    short = min(width, height)
    label = SIZE_CLASSES[0][1]
    for floor, name in SIZE_CLASSES:
        if short >= floor:
            label = name
    return label


@dataclass(frozen=True, repr=False)
class CorpusSummary:
    """What a corpus holds, in numbers: renders as HTML with duration and file-size histograms."""

    source: str
    count: int
    probed: int
    failed: int
    hours: float
    total_bytes: int
    formats: dict[str, int]
    size_classes: dict[str, int]
    delivery: dict[str, int]
    with_audio: int
    failures: dict[str, int]
    failure_examples: tuple[tuple[str, str, str], ...]
    durations: tuple[float, ...] = field(repr=False)
    sizes_mb: tuple[float, ...] = field(repr=False)

    @classmethod
    def of(cls, table: pd.DataFrame, source: str) -> CorpusSummary:
        ok = table.loc[table["error_type"].isna()]
        bad = table.loc[table["error_type"].notna()]
        classes = [
            size_class(int(w), int(h)) for w, h in zip(ok["width"], ok["height"], strict=True)
        ]
        order = [name for _, name in SIZE_CLASSES]
        reasons = [
            f"{t} ({r})" if isinstance(r, str) else str(t)
            for t, r in zip(bad["error_type"], bad["error_reason"], strict=True)
        ]
        return cls(
            source=source,
            count=len(table),
            probed=len(ok),
            failed=len(bad),
            hours=float(ok["duration"].sum()) / 3600,
            total_bytes=int(ok["size_bytes"].fillna(0).sum()),
            formats={str(k): int(v) for k, v in ok["format"].value_counts().sort_index().items()},
            size_classes={name: classes.count(name) for name in order if name in classes},
            delivery={
                str(k): int(v) for k, v in ok["delivery"].value_counts().sort_index().items()
            },
            with_audio=int(ok["has_audio"].fillna(False).sum()),
            failures={r: reasons.count(r) for r in sorted(set(reasons))},
            failure_examples=tuple(
                (str(n), str(t), str(e))
                for n, t, e in zip(
                    bad["name"][:8], bad["error_type"][:8], bad["error"][:8], strict=True
                )
            ),
            durations=tuple(ok["duration"].tolist()),
            sizes_mb=tuple((ok["size_bytes"].astype("float64") / 2**20).tolist()),
        )

    def __repr__(self) -> str:
        return (
            f"<CorpusSummary {self.count} items: {self.probed} probed, {self.failed} failed, "
            f"{self.hours:.2f} hours>"
        )

    def __str__(self) -> str:
        lines = [
            f"{self.count} items from {self.source}: {self.probed} probed, {self.failed} failed",
            f"{self.hours:.2f} hours ({self.hours * 60:.1f} min), "
            f"{self.total_bytes / 2**20:.2f} MB",
            "formats: " + ", ".join(f"{k} {v}" for k, v in self.formats.items()),
            "sizes: " + ", ".join(f"{k} {v}" for k, v in self.size_classes.items()),
            "delivery: " + ", ".join(f"{k} {v}" for k, v in self.delivery.items()),
            f"with audio: {self.with_audio}",
        ]
        if self.failures:
            lines.append("failures: " + ", ".join(f"{k} {v}" for k, v in self.failures.items()))
        return "\n".join(lines)

    def figure(self) -> Any:
        """Histograms of duration and file size (a matplotlib Figure)."""
        from mimo_nb.display.plots import new_figure  # not pyplot's: nothing shows twice

        fig = new_figure((9.0, 3.0), shown=False)
        left, right = fig.subplots(1, 2)
        left.hist(self.durations, bins=30, color="tab:blue")
        left.set_xlabel("duration (s)")
        left.set_ylabel("videos")
        left.set_title("duration", fontsize=10)
        right.hist(self.sizes_mb, bins=30, color="tab:green")
        right.set_xlabel("file size (MB)")
        right.set_title("file size", fontsize=10)
        for ax in (left, right):
            ax.grid(True, alpha=0.3)
        return fig

    def _repr_html_(self) -> str:
        from mimo_nb.display.render import corpus_summary_html

        return corpus_summary_html(self)
