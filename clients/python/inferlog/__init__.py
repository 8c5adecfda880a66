"""inferlog: log model predictions and their feedback to an inferlog collector, off the request path.

    import inferlog
    log = inferlog.Logger(url="http://127.0.0.1:7070", model={"name": "churn-clf", "version": "3.2.0"})
    event_id = log.log(input=features, output={"churn": 0.27})
    log.feedback(event_id, "label", "churned")
    log.close()

Standard library only; Python 3.9+.
"""

from ._span import Span
from ._tensor import tensor
from .errors import ERROR_CODES, InferlogError
from .logger import Logger, __version__

__all__ = ["Logger", "Span", "InferlogError", "ERROR_CODES", "tensor", "__version__"]
