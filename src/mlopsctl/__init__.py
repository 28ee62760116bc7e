"""mlopsctl: scaffold, guard, test and deploy MLOps projects."""

__version__ = "0.4.0"
