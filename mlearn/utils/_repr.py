"""The "?" of an estimator's HTML representation links to mlearn's API page.

scikit-learn draws a "?" in the HTML representation of an estimator (what a
notebook shows for ``est``) linking to ``_doc_link_template`` formatted with the
public module (up to the first private part: ``mlearn._lmnn`` -> ``mlearn``) and
the class name, for classes whose top-level package is ``_doc_link_module``.
Without these attributes an mlearn estimator shows no link at all.
"""

DOC_URL = "https://mlearn-metric.readthedocs.io/en/stable/"


class DocLinkMixin:
    """Point scikit-learn's HTML repr link at ``DOC_URL``'s API pages.

    Put it before :class:`~sklearn.base.BaseEstimator` among the bases (it
    overrides attributes that BaseEstimator defines); the pages are the ones the
    API reference generates, ``generated/<module>.<Class>.html``.
    """

    _doc_link_module = "mlearn"
    _doc_link_template = DOC_URL + "generated/{estimator_module}.{estimator_name}.html"
