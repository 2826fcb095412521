"""Shadow tests: the candidate answers copies of live requests; compare on matched pairs.

``load`` reads a capture tree or generic logs into matched pairs with the record accounting;
``evaluate`` tests and decides. The strategy that runs them is
:mod:`abkit.strategies.shadow`.
"""
