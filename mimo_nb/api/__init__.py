"""The API: the http seam (``_http``, the one place httpx is met), the sync and async clients,
streaming, the response cache, requests and typed responses. Builds on :mod:`mimo_nb.core` and
:mod:`mimo_nb.media`."""
