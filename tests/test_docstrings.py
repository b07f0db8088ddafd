"""numpydoc validation of every learner's docstrings (class and public methods).

The checked codes are the ones a reader notices: a missing docstring, parameters
missing, unknown, out of order or without a description, and summaries that are
not one capitalised sentence. Each class docstring is written out in full (no
templating) and links to its user-guide page.
"""

import inspect

import pytest

from mlearn.utils.discovery import all_estimators

validate = pytest.importorskip("numpydoc.validate").validate

CHECKED = {"GL08", "PR01", "PR02", "PR03", "PR07", "PR08", "PR10", "SS01", "SS02",
           "SS03", "SS05", "SS06"}
SKIP_METHODS = {"get_params", "set_params", "fit_transform", "get_metadata_routing",
                "set_output", "set_fit_request", "set_score_request",
                "set_transform_request", "set_predict_request",
                "set_partial_fit_request", "set_decision_function_request"}


def _objects():
    out = []
    for name, E in all_estimators():
        out.append((f"mlearn.{name}", E))
        for m, member in inspect.getmembers(E):
            if m.startswith("_") or m in SKIP_METHODS or not callable(member):
                continue
            if m.startswith("set_") and m.endswith("_request"):
                continue
            out.append((f"mlearn.{name}.{m}", member))
    return out


@pytest.mark.parametrize("qualname", [q for q, _ in _objects()])
def test_numpydoc(qualname):
    errors = [f"{code}: {msg}" for code, msg in validate(qualname)["errors"]
              if code in CHECKED]
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("name, Estimator", all_estimators(), ids=lambda v: str(v))
def test_class_docstring_links_user_guide(name, Estimator):
    assert "Read more in the :ref:`User Guide <" in Estimator.__doc__
