from tests.ext.services import namespace, redis_url  # noqa: F401
