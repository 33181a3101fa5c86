"""Media: probing, decoding and encoding video files (PyAV is met only in ``probe``, ``decode``
and ``encode``), :class:`~mimo_nb.media.video.Video`, :class:`~mimo_nb.media.frames.Frames` and
the generated sample clips. Builds on :mod:`mimo_nb.core`."""
