"""C2PA manifests: build, sign and read. The only package that imports ``c2pa``."""
