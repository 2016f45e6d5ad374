"""The benchmarks share the service tests' real Redis."""

from tests.service.conftest import redis_instance, redis_server, redis_url  # noqa: F401
