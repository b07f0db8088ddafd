"""The HTML repr's "?" link of mlearn estimators points to their API page."""

import inspect

from sklearn.base import BaseEstimator

import mlearn
from mlearn.utils._repr import DOC_URL, DocLinkMixin


class _Toy(DocLinkMixin, BaseEstimator):
    def __init__(self, alpha=1.0):
        self.alpha = alpha


_Toy.__module__ = "mlearn._toy"  # as if defined in a private mlearn module


def test_link_uses_the_public_module_and_the_class_name():
    est = _Toy()
    assert est._get_doc_link() == DOC_URL + "generated/mlearn._Toy.html"
    assert f'href="{DOC_URL}generated/mlearn._Toy.html"' in est._repr_html_()


def test_classes_outside_mlearn_get_no_link():
    class Outside(DocLinkMixin, BaseEstimator):
        pass

    Outside.__module__ = "somebody_else.models"
    assert Outside()._get_doc_link() == ""


def test_every_exported_estimator_links_to_its_api_page():
    for name in mlearn.__all__:
        obj = getattr(mlearn, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator):
            assert obj()._get_doc_link() == (
                f"{DOC_URL}generated/mlearn.{name}.html"), name
