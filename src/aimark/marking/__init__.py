"""File-level watermarks for time-based media: decode a file with :mod:`aimark.media.ffmpeg`,
mark or read its samples or frames with the schemes in :mod:`aimark.watermark`, and encode
it back with the source's codec settings, streaming in blocks (memory stays bounded however
long the file). ``audio`` and ``video`` hold one module each.
"""
