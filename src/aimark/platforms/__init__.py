"""What a platform runs on uploads: :mod:`~aimark.platforms.ingest` (republish a processed
copy with the provenance kept), its :mod:`~aimark.platforms.processing` and the GB 45438
:mod:`~aimark.platforms.evidence` rules. See docs/platforms.md."""
