"""The ``transferability`` command line (installed as ``transferability.cli``)."""
