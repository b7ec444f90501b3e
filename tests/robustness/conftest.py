"""The robustness tier: what bad input, slow peers and odd servers do to the sidecar, the REST
client and the CLI. Each case asserts that the program keeps serving or exits clearly, and that
no secret shows in anything captured. Fast: it runs in ``make test``."""
