"""TensorFlow Serving's error model: a canonical status code and a message.

Every failure inside the server is a :class:`ServingError` carrying one of TensorFlow's canonical
codes; the REST front end turns it into ``{"error": message}`` with TF Serving's HTTP status
(``ToHTTPStatusCode`` in ``tensorflow_serving/model_servers/http_server.cc``) and the gRPC front
end aborts the call with the same code.
"""

from __future__ import annotations

# TF Serving's mapping from canonical codes to HTTP statuses.
HTTP_STATUS = {
    "OK": 200,
    "CANCELLED": 499,
    "UNKNOWN": 500,
    "INVALID_ARGUMENT": 400,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "ALREADY_EXISTS": 409,
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "FAILED_PRECONDITION": 400,
    "ABORTED": 409,
    "OUT_OF_RANGE": 400,
    "UNIMPLEMENTED": 501,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DATA_LOSS": 500,
    "UNAUTHENTICATED": 401,
}

_CODE_BY_HTTP = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    411: "INVALID_ARGUMENT",
    413: "RESOURCE_EXHAUSTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


class ServingError(Exception):
    """A request failed with a canonical status ``code`` (``"NOT_FOUND"``, ``"INVALID_ARGUMENT"``…).

    Raised by the server internals and by :class:`kerasconv.serving.Client` for both protocols.
    ``http_status`` is the REST status the code maps to (or the one a REST server answered).
    """

    def __init__(self, code, message, http_status=None):
        if code not in HTTP_STATUS:
            raise ValueError(f"unknown status code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status if http_status is not None else HTTP_STATUS[code]

    def __str__(self):
        return f"{self.code}: {self.message}"

    @classmethod
    def from_http(cls, http_status, message):
        """The error a REST answer with status ``http_status`` stands for."""
        code = _CODE_BY_HTTP.get(http_status, "INTERNAL" if http_status >= 500 else "UNKNOWN")
        return cls(code, message, http_status=http_status)


def invalid_argument(message):
    return ServingError("INVALID_ARGUMENT", message)


def not_found(message):
    return ServingError("NOT_FOUND", message)


def grpc_status_code(code):
    """The ``grpc.StatusCode`` for a canonical code name."""
    import grpc

    return getattr(grpc.StatusCode, code)
