"""micromall: a static-site micro-mall generator (import name `generator`)."""

__version__ = "0.1.0"
