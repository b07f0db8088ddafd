"""Migration helpers from other metric-learning libraries.

:mod:`mlearn.compat.metric_learn` maps metric-learn 0.7's classes onto mlearn's.
"""
