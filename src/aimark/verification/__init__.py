"""The parts of a verification, each with one job: the decoded pixels of an input
(:mod:`.pixels`), the layer readers (:mod:`.metadata`, :mod:`.watermark`, :mod:`.recovery`)
and the judgement (:mod:`.verdict`). :class:`aimark.Verifier` runs them in that order."""
