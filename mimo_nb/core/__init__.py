"""The pure core: the vendor's token formula, server profiles, the budget planner, pricing, limits.

Nothing here does I/O or imports a display, media or HTTP library (numpy and the error tree only):
import-linter checks it on every ``make test``. Core values still render in a notebook: their
``_repr_html_`` goes through :mod:`mimo_nb.core.display_hook`, which the display layer fills.
"""
