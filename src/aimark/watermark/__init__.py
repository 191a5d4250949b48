"""Invisible watermarks. ``aimark.watermark.image``: a keyed, robust image watermark."""
