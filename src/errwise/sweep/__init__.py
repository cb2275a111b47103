"""Failure-path sweep: fail each I/O site the tests reach, once, and prove what became of the error."""  # noqa: E501
