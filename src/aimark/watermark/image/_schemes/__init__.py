"""The image watermark schemes, one package each, each exposing ``SCHEME`` (an
:class:`~aimark.watermark.image._common.scheme.ImageScheme`). A scheme imports :mod:`.._common`,
its own modules and, where it extends an earlier scheme's format, that scheme's modules
(``v3`` is ``v2``'s tile with an informed embedder); :mod:`aimark.watermark.image.registry`
lists them."""
