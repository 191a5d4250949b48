"""What every image watermark scheme shares: the scheme interface and the detection result
(:mod:`.scheme`), array conventions (:mod:`.arrays`), the perceptual mask and filters
(:mod:`.mask`, :mod:`.residual`), strip-wise embedding (:mod:`.strips`), chip interpolation
(:mod:`.interp`), peak helpers (:mod:`.peaks`) and the convolutional code (:mod:`.code`). No
module here knows any scheme."""
