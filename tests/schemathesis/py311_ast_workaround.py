"""Keep a CPython 3.11 bug from ending a schemathesis run.

Under Python 3.11, ast.parse can raise SystemError ("AST constructor
recursion depth mismatch") when called deep in a stack. hypothesis calls it
only to describe lambdas for the repr of a strategy; the failure then ends the
run with an error that has nothing to do with the API under test. This falls
back to a plain description instead. scripts/setup-schemathesis installs it
(through a .pth file) only into a venv on Python older than 3.12.
"""

try:
    from hypothesis.internal import lambda_sources

    _describe = lambda_sources._lambda_description

    def _lambda_description(f, *args, **kwargs):
        try:
            return _describe(f, *args, **kwargs)
        except SystemError:
            return "lambda: <unknown>"

    lambda_sources._lambda_description = _lambda_description
except Exception:  # a hypothesis without this internal: nothing to patch
    pass
