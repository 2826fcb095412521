"""The shared core every layer may import: result types, argument checks, the accounting
registry (every rejection reason, ``count_reasons``, ``check_rows``), the column check and
the verdict vocabulary. It imports nothing else from abkit except :mod:`abkit.errors`."""
