"""Strategies: each plans a reduction, tests the reduced statistics, decides and describes.

:mod:`abkit.strategies.base` holds the :class:`Strategy` interface and the one registry;
``ab``, ``rollout`` (canary and linear), ``shadow`` and ``bluegreen`` implement it.
"""
