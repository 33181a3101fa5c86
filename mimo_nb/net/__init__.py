"""The network seam: the one place httpx is met (import-linter checks it).

Every HTTP request mimo_nb makes, the API's and ``Video.open(url)``'s downloads alike, goes
through :mod:`mimo_nb.net.http`: the caller's transport, one deadline for the whole call, httpx's
errors mapped onto the :class:`~mimo_nb.errors.MimoError` tree, secrets redacted, reads capped.
It sits below media and the API and above the core."""
