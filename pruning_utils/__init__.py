"""pruning_utils: the package behind Pruning Theory, Reproduced."""
__version__ = "0.1.0"
