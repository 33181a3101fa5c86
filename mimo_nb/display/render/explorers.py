"""What an explorer widget shows where widgets cannot run: a static snapshot of its state, and
the style a live explorer uses to hide that snapshot (:mod:`mimo_nb.display.widgets`)."""

from __future__ import annotations

from mimo_nb.display.render._text import MUTED, escape

__all__ = ["EXPLORER_CLASS", "explorer_snapshot_html", "explorer_style", "widget_fallback_html"]

_FALLBACK_ATTR = "data-mimo-fallback-for"
EXPLORER_CLASS = "mimo-explorer"


def explorer_snapshot_html(title: str, settings: str, numbers: str, view: str) -> str:
    """An explorer's state as plain HTML: a heading, the settings, the numbers beside the view.

    ``numbers`` and ``view`` are HTML made by this package; ``title`` and ``settings`` are text.
    """
    heading = f"<b>{escape(title)}</b> · " if title else ""
    return (
        f"<div>{heading}{escape(settings)}</div>"
        "<div style='display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start'>"
        f"<div style='max-width:460px'>{numbers}</div><div>{view}</div></div>"
    )


def widget_fallback_html(snapshot: str, model_id: str) -> str:
    """The static snapshot shown in place of a widget that cannot load (offline export, GitHub).

    It is marked with the widget's model id: the live widget hides it (see
    :func:`explorer_style`), so where widgets run only the widget is seen.
    """
    return (
        f"<div class='mimo-snapshot' {_FALLBACK_ATTR}='IPY_MODEL_{escape(model_id)}'>{snapshot}"
        f"<div style='{MUTED}'>static snapshot (the widget could not load here); "
        "run the notebook to "
        "use the controls</div></div>"
    )


def explorer_style(model_id: str) -> str:
    """The ``<style>`` a live explorer carries: readable text, and its static snapshot hidden.

    Only a widget that actually rendered puts these rules in the page, so a page where widget
    JavaScript cannot load keeps showing the snapshot. In JupyterLab (and nbconvert's lab
    template) the snapshot's whole output row is hidden, so no empty gap is left. Widget HTML
    inherits a control's line height (28 px in JupyterLab); text and tables get their own.
    """
    target = f"[{_FALLBACK_ATTR}='IPY_MODEL_{escape(model_id)}']"
    return (
        f"<style>{target}{{display:none}}.jp-OutputArea-child:has({target}){{display:none}}"
        f".{EXPLORER_CLASS} .widget-html-content{{line-height:1.4}}"
        f".{EXPLORER_CLASS} table td,.{EXPLORER_CLASS} table th"
        "{padding:1px 6px;line-height:1.3}</style>"
    )
