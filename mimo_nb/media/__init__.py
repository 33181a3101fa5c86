"""Media: probing, decoding and encoding video files (PyAV is met only in ``decode`` and
``encode``), :class:`~mimo_nb.media.video.Video`, :class:`~mimo_nb.media.video.Frames` and the
generated sample clips. Builds on :mod:`mimo_nb.core`."""
