"""The image watermark schemes, one package each, each exposing ``SCHEME`` (an
:class:`~aimark.watermark.image._common.scheme.ImageScheme`). A scheme imports only
:mod:`.._common` and its own modules; :mod:`aimark.watermark.image.registry` lists them."""
